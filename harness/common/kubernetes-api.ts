import type {
  ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  Watch,
} from "@kubernetes/client-node";

/** A request the API server has not answered in this long failed (a frozen or unreachable server). */
export const KUBE_REQUEST_TIMEOUT_MS = 2000;

/** The APIs pgchaos uses, from one kubeconfig, every request bounded by a timeout. */
export interface KubeApis {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly watch: Watch;
  /** Options for a JSON merge patch (RFC 7386): a null value removes the key, as Patroni's own patches do. */
  readonly mergePatch: ConfigurationOptions;
  /** GET /readyz; false (never a throw) when it does not answer yes in time. */
  ready(): Promise<boolean>;
}

/**
 * Clients for the kubeconfig's current context. @kubernetes/client-node sets no timeout of its own:
 * without one, a status poll of a SIGSTOPped API server would wait for ever. It is loaded on first
 * use: importing it costs ~0.3 s of CPU, which no run without Kubernetes should pay at start.
 */
export async function kubeApis(kubeconfig: string, timeoutMs = KUBE_REQUEST_TIMEOUT_MS): Promise<KubeApis> {
  const {
    CoreV1Api,
    Health,
    KubeConfig,
    PatchStrategy,
    RbacAuthorizationV1Api,
    ServerConfiguration,
    Watch,
    createConfiguration,
    setHeaderOptions,
  } = await import("@kubernetes/client-node");
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig names no current cluster");
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    promiseMiddleware: [
      {
        pre: async (context) => {
          context.setSignal(AbortSignal.timeout(timeoutMs));
          return context;
        },
        post: async (response) => response,
      },
    ],
  });
  return {
    config,
    core: new CoreV1Api(configuration),
    rbac: new RbacAuthorizationV1Api(configuration),
    watch: new Watch(config),
    mergePatch: setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    ready: () => new Health(config).readyz({ signal: AbortSignal.timeout(timeoutMs) }).catch(() => false),
  };
}

/** The HTTP status of a failed API call (client-node's ApiException); undefined for anything that never got an answer. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Creates an object, or leaves it when it exists already (409). */
export async function createOrKeep(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (apiStatus(error) !== 409) throw error;
  }
}

/** A kubeconfig with a bearer token, its one context selected; the CA inline, or a file's path. */
export function kubeconfigYaml(options: {
  server: string;
  ca: { pem: string } | { file: string };
  token: string;
  context: string;
  user: string;
  namespace: string;
}): string {
  const ca =
    "file" in options.ca
      ? `certificate-authority: ${options.ca.file}`
      : `certificate-authority-data: ${Buffer.from(options.ca.pem).toString("base64")}`;
  return `apiVersion: v1
kind: Config
clusters:
- name: ${options.context}
  cluster:
    server: ${options.server}
    ${ca}
users:
- name: ${options.user}
  user:
    token: ${options.token}
contexts:
- name: ${options.context}
  context:
    cluster: ${options.context}
    user: ${options.user}
    namespace: ${options.namespace}
current-context: ${options.context}
`;
}
