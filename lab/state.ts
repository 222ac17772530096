// What a running lab leaves for the next command (`lab verify`, `lab down`, a second `lab up`): one
// directory per lab under /run (tmpfs, root-only, never in the repo) holding pids, host keys, the
// verifier's private key, logs and the LB's control socket. `lab down` never depends on it alone:
// it also finds namespaces and links by the lab's prefix, so a crashed `lab up` can be cleaned.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LabBackendMode } from "./neg";
import { labTopology, nodeCountProblem, type LabTopology, type TopologyOptions } from "./topology";

/** How a pod's server runs: `up` starts it with none of these; faults change them (lab/faults.ts). */
export interface PodVariant {
  /** listen on this port instead of the Service's targetPort */
  port?: number;
  /** bind to this address instead of 0.0.0.0 (e.g. 127.0.0.1) */
  listen?: string;
  /** answer these paths with this status instead of 200, e.g. { "/": 301 } */
  answers?: Record<string, number>;
}

export interface LabState {
  prefix: string;
  net: string;
  createdAt: string;
  /** set once `lab up` finished every step; a state without it is a crashed or running `lab up` */
  complete: boolean;
  /** processes started detached, by role ("lb", "pod-1", "sshd node-1") */
  pids: Record<string, number>;
  /** node name -> "ssh-ed25519 AAAA..." of its sshd */
  hostKeys: Record<string, string>;
  /** public half of the verifier's key (the private half is in clientKeyFile) */
  clientPublicKey?: string;
  /** the LB's keep-alive setting at `lab up` */
  keepAlive: boolean;
  /** how each pod's server was last started (absent or {}: as `up` starts it) */
  podVariants?: Record<string, PodVariant>;
  /** faults applied with `lab break` since `up` or the last `lab repair`, in order */
  faults?: string[];
  /** the Service's externalTrafficPolicy as the nodes' rules were last written (absent: Cluster) */
  externalTrafficPolicy?: "Cluster" | "Local";
  /** the path `lab up` built (absent: instance-group, the article's) */
  backend?: LabBackendMode;
  /** how many nodes `lab up --nodes` built (absent: DEFAULT_LAB_NODES); the other commands rebuild the topology with it */
  nodes?: number;
  /** NEG lab: pods running away from their topology node (pod -> node), set by the endpoint-stale fault */
  negMoves?: Record<string, string>;
}

export interface LabPaths {
  dir: string;
  stateFile: string;
  clientKeyFile: string;
  logDir: string;
  sshdDir(nodeName: string): string;
  lbControlSocket: string;
}

export function labPaths(t: LabTopology): LabPaths {
  const dir = t.stateDir;
  return {
    dir,
    stateFile: join(dir, "state.json"),
    clientKeyFile: join(dir, "verifier_ed25519"),
    logDir: join(dir, "logs"),
    sshdDir: (nodeName) => join(dir, "sshd", nodeName),
    lbControlSocket: join(dir, "lb.sock"),
  };
}

export function ensureStateDir(t: LabTopology): LabPaths {
  const paths = labPaths(t);
  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.dir, 0o700);
  return paths;
}

export function readState(t: LabTopology): LabState | undefined {
  const { stateFile } = labPaths(t);
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as LabState;
  } catch {
    // A half-written file from a crash: `lab down` still cleans by prefix.
    return undefined;
  }
}

/**
 * The topology of the lab that is up: `labTopology` gives the default node count, the state says
 * how many `lab up --nodes N` built (the state dir does not depend on the count). No state, or a
 * count outside the plan in a hand-edited file: `t` as it is (`lab down` still finds every node by prefix).
 */
export function runningTopology(t: LabTopology, options: Omit<TopologyOptions, "nodes"> = {}): LabTopology {
  const count = readState(t)?.nodes;
  if (count === undefined || count === t.nodes.length || nodeCountProblem(count)) return t;
  return labTopology({ prefix: t.prefix, net: t.net, stateDir: t.stateDir, healthCheckIntervalMs: t.lb.healthCheckIntervalMs, ...options, nodes: count });
}

export function writeState(t: LabTopology, state: LabState): void {
  const { stateFile } = labPaths(t);
  const tmp = `${stateFile}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, stateFile);
}

export function writeClientKey(t: LabTopology, privateKey: string): void {
  writeFileSync(labPaths(t).clientKeyFile, privateKey, { mode: 0o600 });
}

/** The verifier's private key; never printed. */
export function readClientKey(t: LabTopology): string | undefined {
  const { clientKeyFile } = labPaths(t);
  return existsSync(clientKeyFile) ? readFileSync(clientKeyFile, "utf8") : undefined;
}

export function removeStateDir(t: LabTopology): void {
  rmSync(labPaths(t).dir, { recursive: true, force: true });
}
