import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/**
 * The API clients the kubernetes backend needs, every request bounded by a timeout (client-node sets
 * none). Its own, not topology/kubernetes-api.ts's (the backend sits below topology); the two could
 * share one in common/ once that file moves. client-node is loaded on first use (~0.3 s of CPU).
 */
export interface NodeApis {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
}

export async function nodeApis(kubeconfig: string, timeoutMs: number): Promise<NodeApis> {
  const { CoreV1Api, KubeConfig, ServerConfiguration, createConfiguration } = await import(
    "@kubernetes/client-node"
  );
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
  return { config, core: new CoreV1Api(configuration) };
}
