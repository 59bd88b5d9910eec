import { z } from "zod";
import type { HaManager, Need } from "../ha-manager.ts";
import { KUBE_APISERVER } from "./kube-apiserver.ts";
import { patroni, patroniK8s } from "./patroni.ts";
import { patroniRules } from "./rules.ts";

const patroniSettings = z.record(z.string(), z.json()).optional();

/** The DCS's own targets: etcd's members, a majority of them (or the Kubernetes API for patroni-k8s). */
const TARGETS = ["dcs", "dcs_majority"] as const;

const PATRONI: Need = ["/usr/bin/patroni", "patroni python3-psycopg2"];
const ETCD: Need = ["/usr/bin/etcd", "etcd-server"];

export const patroniManager = {
  kind: patroni,
  rules: patroniRules,
  settings: patroniSettings.describe(
    "Patroni DCS settings (ttl, loop_wait, retry_timeout, maximum_lag_on_failover, failsafe_mode, …), passed through",
  ),
  targets: TARGETS,
  needs: {
    member: [PATRONI, ETCD, ["/usr/bin/etcdctl", "etcd-client"]],
    builtHere: [],
    harness: [],
  },
} satisfies HaManager;

/** The same Patroni with the Kubernetes API as its DCS: the same rules and targets. */
export const patroniK8sManager = {
  kind: patroniK8s,
  rules: patroniRules,
  settings: patroniSettings.describe(
    "The same Patroni DCS settings for Patroni on the Kubernetes API (PGO: ttl 30, loop_wait 10 unless its spec.patroni says otherwise), passed through",
  ),
  targets: TARGETS,
  needs: {
    // openssl: the per-run CA and certificates of the API server.
    member: [PATRONI, ETCD, ["/usr/bin/openssl", "openssl"]],
    builtHere: [
      [
        KUBE_APISERVER,
        "bash scripts/build-kube-apiserver.sh (from Go modules: ~7 min and 2.4 GB of RAM the first time)",
      ],
    ],
    harness: [],
  },
} satisfies HaManager;
