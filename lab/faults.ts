// `lab break --list | <fault>` and `lab repair` (design.md, "contract: lab faults"). Each fault is a
// commonly reported cause of a failing GKE Ingress on the instance-group path (the container-native
// path's are in lab/neg-faults.ts, listed and repaired from here too), made real in the
// lab's namespaces with the tools a person would use on a node (iptables, sysctl) or by running the
// pods' server the way a broken app runs. `lab repair` puts back what `lab up` made, also after a
// hand-made break: it reloads every node's kube-proxy tables and sysctls and restarts any pod that
// is stopped or runs differently.
import { clearRecentChecks, lbStatus, waitForLb, type LbStatus } from "./lb-control";
import { execInNamespace, killPid } from "./netns";
import { asRoot } from "../verifier/cli/as-root";
import { processRunning } from "./host";
import { labPaths, readState, writeState, type LabState, type PodVariant } from "./state";
import { nodeByName, type LabTopology } from "./topology";
import { LabError, loadKubeProxyRules, nodeSysctls, startPod } from "./up";
import type { LabBackendMode } from "./neg";
import { NEG_FAULTS, repairNeg } from "./neg-faults";

export interface LabFault {
  /** the id `lab break` takes */
  id: string;
  /** the paths (lab up --backend) it applies to; absent: instance-group only */
  backends?: LabBackendMode[];
  /** the real cause it reproduces, in one line */
  cause: string;
  /** what a user sees */
  symptom: string;
  /** where verify reports it: the diagnosis' hop / cause (and subject) */
  reported: string;
  /** what the fault does to the lab, as a command a person could type */
  how: (t: LabTopology) => string;
  apply(t: LabTopology, state: LabState): Promise<void>;
  /** the LB's view once the fault shows (break waits for it, so verify sees it) */
  shows(status: LbStatus): boolean;
}

/** The node the node-side faults break: node-2 runs no pod and still forwards (the article's picture). */
const NODE = "node-2";
const POD = "pod-2";

const backend = (s: LbStatus, name: string) => s.backends.find((b) => b.name === name);
const allUnhealthy = (s: LbStatus) => s.backends.every((b) => b.state === "UNHEALTHY");
const failedRecently = (s: LbStatus, name?: string) =>
  s.backends.some((b) => (name === undefined || b.name === name) && (b.state === "UNHEALTHY" || (b.recentChecks ?? []).some((r) => r !== "ok")));

async function restartPods(t: LabTopology, state: LabState, variant: PodVariant, pods = t.pods.map((p) => p.name)): Promise<void> {
  await Promise.all(
    t.pods
      .filter((p) => pods.includes(p.name))
      .map(async (pod) => {
        await killPid(state.pids[pod.name]);
        await startPod(t, pod, state, variant);
      }),
  );
}

async function iptables(t: LabTopology, node: string, args: string[]): Promise<void> {
  await execInNamespace(nodeByName(t, node).namespace, ["iptables", "-w", ...args]);
}

/** Splits an iptables-save rule into argv, keeping quoted comments whole. */
export function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** The KUBE-SEP rule on `node` that DNATs to `pod`, as iptables-save prints it (without "-A "). */
export async function sepDnatRule(t: LabTopology, node: string, pod: string): Promise<string | undefined> {
  const ip = t.pods.find((p) => p.name === pod)?.ip;
  const save = (await execInNamespace(nodeByName(t, node).namespace, ["iptables-save", "-t", "nat"])).stdout;
  return save
    .split("\n")
    .find((l) => l.startsWith("-A KUBE-SEP-") && l.includes(`--to-destination ${ip}:`))
    ?.slice(3);
}

export const LAB_FAULTS: LabFault[] = [
  {
    id: "health-check-301",
    backends: ["instance-group", "neg"],
    cause: "the health check path answers 301 while the pods run (the app redirects / to a login page or to HTTPS)",
    symptom: "every backend UNHEALTHY in the LB (the nodes; on the NEG path the pods' endpoints; the health check wants 200), clients get 503 (502 on GKE), the pods are Running and Ready",
    reported: "pod / health-check-path-not-200 (pod-1, pod-2)",
    how: () => "restart both pods answering GET / with 301 Location /login",
    apply: (t, state) => restartPods(t, state, { answers: { "/": 301 } }),
    shows: allUnhealthy,
  },
  {
    id: "health-check-404",
    backends: ["instance-group", "neg"],
    cause: "the health check path answers 404 while the pods run (the app serves no /; its readiness probe or the BackendConfig names another path)",
    symptom: "every backend (node, or NEG endpoint) UNHEALTHY, clients get 503 (502 on GKE), the pods are Running",
    reported: "pod / health-check-path-not-200 (pod-1, pod-2)",
    how: () => "restart both pods answering GET / with 404",
    apply: (t, state) => restartPods(t, state, { answers: { "/": 404 } }),
    shows: allUnhealthy,
  },
  {
    id: "pod-wrong-port",
    backends: ["instance-group", "neg"],
    cause: "the app listens on another port than the Service's targetPort",
    symptom: "every backend (node, or NEG endpoint) UNHEALTHY (connection refused), clients get 503 (502 on GKE)",
    reported: "pod / pod-listens-on-other-port (pod-1, pod-2)",
    how: (t) => `restart both pods listening on :${t.service.podPort + 1} instead of :${t.service.podPort}`,
    apply: (t, state) => restartPods(t, state, { port: t.service.podPort + 1 }),
    shows: allUnhealthy,
  },
  {
    id: "app-on-loopback",
    backends: ["instance-group", "neg"],
    cause: "the app binds 127.0.0.1, so nothing outside the pod reaches it",
    symptom: "every backend (node, or NEG endpoint) UNHEALTHY (connection refused), clients get 503 (502 on GKE), the app answers inside its pod",
    reported: "pod / app-bound-to-loopback (pod-1, pod-2)",
    how: (t) => `restart both pods listening on 127.0.0.1:${t.service.podPort}`,
    apply: (t, state) => restartPods(t, state, { listen: "127.0.0.1" }),
    shows: allUnhealthy,
  },
  {
    id: "pod-stopped",
    backends: ["instance-group", "neg"],
    cause: "a pod's process has stopped while the nodes' rules still send to it (a crashing container, before its endpoint is removed)",
    symptom: "health checks flap on every node (on the NEG path: the stopped pod's endpoint is UNHEALTHY), part of the requests get 502: as many as were sent to the stopped pod",
    reported: "pod / pod-not-ready (pod-2)",
    how: (t) => `kill the pod-2 server process (ip netns exec ${t.prefix}pod-2 ...)`,
    apply: async (_t, state) => {
      await killPid(state.pids[POD]);
    },
    shows: (s) => failedRecently(s),
  },
  {
    id: "nat-flushed",
    cause: "kube-proxy's rules missing on one node (its nat table flushed: iptables -t nat -F by hand, a firewall script, a kube-proxy restart gone wrong)",
    symptom: "node-2 UNHEALTHY (n-port refused there), the other nodes serve",
    reported: "node-nat / kube-proxy-rules-missing (node-2)",
    how: (t) => `ip netns exec ${t.prefix}${NODE} iptables -t nat -F && ... iptables -t nat -X`,
    apply: async (t) => {
      await iptables(t, NODE, ["-t", "nat", "-F"]);
      await iptables(t, NODE, ["-t", "nat", "-X"]);
    },
    shows: (s) => backend(s, NODE)?.state === "UNHEALTHY",
  },
  {
    id: "sep-rule-deleted",
    cause: "one KUBE-SEP DNAT rule missing on one node (a partial sync, a rule deleted by hand)",
    symptom: "node-2's health checks flap: the connections its rules would send to pod-2 reach node-2 itself and are refused",
    reported: "node-nat / endpoint-rule-missing (node-2)",
    how: (t) => `ip netns exec ${t.prefix}${NODE} iptables -t nat -D <the KUBE-SEP rule that DNATs to pod-2>`,
    apply: async (t) => {
      const rule = await sepDnatRule(t, NODE, POD);
      if (!rule) throw new LabError(`${NODE} has no KUBE-SEP rule DNATing to ${POD} any more: run lab repair first`);
      await iptables(t, NODE, ["-t", "nat", "-D", ...splitRule(rule)]);
    },
    shows: (s) => failedRecently(s, NODE),
  },
  {
    id: "external-traffic-policy-local",
    cause: "the Service has externalTrafficPolicy: Local: a node without a pod of the Service drops n-port traffic from outside (kube-proxy's KUBE-EXTERNAL-SERVICES DROP)",
    symptom: "node-2 (no pod) UNHEALTHY by design, node-1 and node-3 serve their own pod only",
    reported: "node / no-local-endpoint (node-2, by design) and service / external-traffic-policy-local",
    how: () => "rewrite every node's kube-proxy rules (filter and nat) for externalTrafficPolicy: Local",
    apply: async (t, state) => {
      await Promise.all(t.nodes.map((n) => loadKubeProxyRules(t, n, "Local")));
      state.externalTrafficPolicy = "Local";
    },
    shows: (s) => backend(s, NODE)?.state === "UNHEALTHY",
  },
  {
    id: "forward-drop",
    cause: "a node that cannot forward what it DNATs: FORWARD policy DROP (Docker, a hardening script) and kube-proxy's KUBE-FORWARD jump gone",
    symptom: "node-2 UNHEALTHY (health checks time out), the other nodes serve",
    reported: "node-forwarding / forward-policy-drop (node-2)",
    how: (t) => `ip netns exec ${t.prefix}${NODE} iptables -P FORWARD DROP && ... iptables -D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
    apply: async (t) => {
      await iptables(t, NODE, ["-P", "FORWARD", "DROP"]);
      await iptables(t, NODE, ["-D", "FORWARD", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD"]);
    },
    shows: (s) => backend(s, NODE)?.state === "UNHEALTHY",
  },
  {
    id: "ip-forward-off",
    cause: "a node with net.ipv4.ip_forward=0 (a sysctl reset): it DNATs to the pods but does not route the packets",
    symptom: "node-2 UNHEALTHY (health checks time out), the other nodes serve",
    reported: "node-forwarding / ip-forward-disabled (node-2)",
    how: (t) => `ip netns exec ${t.prefix}${NODE} sysctl -w net.ipv4.ip_forward=0`,
    apply: async (t) => {
      await execInNamespace(nodeByName(t, NODE).namespace, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
    },
    shows: (s) => backend(s, NODE)?.state === "UNHEALTHY",
  },
];

/** Causes of issue 7's catalogue that the lab cannot hold, and where they are reproduced instead. */
export const NOT_IN_LAB: { cause: string; where: string }[] = [
  {
    cause: "health-check firewall rule missing, in another VPC network, or overridden by a deny rule",
    where: "the lab has no VPC firewall (its LB reaches the nodes over a bridge that filters nothing); the REST stand-in world (tests/support/rest-standins) holds it",
  },
  { cause: "named port wrong or missing, a node missing from the instance group, NEGs of another type", where: "Compute API objects: the REST stand-in world" },
  { cause: "Service of type ClusterIP, selector matching no pod", where: "Kubernetes API objects: the REST stand-in world" },
];

/** Every fault of both paths: the article's (LAB_FAULTS) and the container-native one's (lab/neg-faults.ts). */
export const ALL_FAULTS: LabFault[] = [...LAB_FAULTS, ...NEG_FAULTS];

export const faultBackends = (f: LabFault): LabBackendMode[] => f.backends ?? ["instance-group"];

export function findFault(id: string): LabFault | undefined {
  return ALL_FAULTS.find((f) => f.id === id);
}

/**
 * The message for a fault name that is none of ALL_FAULTS: every fault by the lab it applies to
 * (an instance-group lab, a NEG lab), as the lab that is up may be either.
 */
export function unknownFaultMessage(id: string): string {
  const on = (backend: LabBackendMode) => ALL_FAULTS.filter((f) => faultBackends(f).includes(backend)).map((f) => f.id).join(", ");
  return `unknown fault "${id}"; on an instance-group lab: ${on("instance-group")}; on a NEG lab (lab up --backend neg): ${on("neg")} (lab break --list says what each does on the lab that is up)`;
}

/**
 * `lab break --list`: one block per fault that applies to `backend` (the running lab's path;
 * undefined: no lab is up, every fault with the path it needs), the faults of the other path by
 * name, then the causes the lab leaves to the stand-in world.
 */
export function faultList(t: LabTopology, backend?: LabBackendMode): string {
  const applies = (f: LabFault) => backend === undefined || faultBackends(f).includes(backend);
  const lines = [
    `faults the lab can reproduce${backend ? ` on this lab (lab up --backend ${backend})` : ""} (npm run lab -- break <fault>; undo with npm run lab -- repair):`,
    "",
  ];
  for (const f of ALL_FAULTS.filter(applies)) {
    lines.push(`  ${f.id}${backend === undefined ? `   [lab up --backend ${faultBackends(f).join(" or ")}]` : ""}`);
    lines.push(`      cause:    ${f.cause}`, `      does:     ${f.how(t)}`, `      you see:  ${f.symptom}`, `      reported: diagnosis ${f.reported}`);
  }
  const others = ALL_FAULTS.filter((f) => !applies(f));
  if (others.length > 0) {
    const other = backend === "neg" ? "instance-group" : "neg";
    lines.push("", `need a lab built with --backend ${other}: ${others.map((f) => f.id).join(", ")}`);
  }
  lines.push("", "not in the lab:");
  for (const n of NOT_IN_LAB) lines.push(`  ${n.cause}: ${n.where}`);
  return lines.join("\n");
}

function requireLab(t: LabTopology): LabState {
  const state = readState(t);
  if (!state?.complete) throw new LabError(`lab "${t.prefix}" is not up${state ? " (its lab up did not finish)" : ""}: run ${asRoot("npm run lab -- up")}`);
  return state;
}

export interface BreakResult {
  fault: LabFault;
  /** whether the LB showed the fault within the wait */
  shown: boolean;
  status?: LbStatus;
}

/** Applies one fault to the running lab and waits (up to waitMs) until the LB's health checks show it. */
export async function labBreak(t: LabTopology, id: string, waitMs = 10_000): Promise<BreakResult> {
  const fault = findFault(id);
  if (!fault) throw new LabError(unknownFaultMessage(id));
  const state = requireLab(t);
  const backend = state.backend ?? "instance-group";
  if (!faultBackends(fault).includes(backend)) {
    throw new LabError(
      `fault "${id}" needs a lab built with ${faultBackends(fault).map((b) => `--backend ${b}`).join(" or ")}; this lab is ${backend}: ` +
        `run ${asRoot(`npm run lab -- up --backend ${faultBackends(fault)[0]}`)}`,
    );
  }
  await fault.apply(t, state);
  state.faults = [...(state.faults ?? []), fault.id];
  writeState(t, state);
  const socket = labPaths(t).lbControlSocket;
  const { status, met } = await waitForLb(socket, fault.shows, waitMs);
  return { fault, shown: met, status };
}

export interface RepairResult {
  /** what was put back */
  actions: string[];
  status?: LbStatus;
}

/**
 * Puts the lab back as `lab up` made it: every node's kube-proxy filter and nat tables reloaded
 * (FORWARD policy ACCEPT) and ip_forward=1, every pod that is stopped or runs differently
 * restarted as up starts it; then waits until every node is HEALTHY with a clean check history.
 */
export async function labRepair(t: LabTopology, waitMs = 15_000): Promise<RepairResult> {
  const state = requireLab(t);
  const actions: string[] = [];
  // Pods home first: the rules reloaded next name the pods where the topology puts them.
  if (state.backend === "neg") actions.push(...(await repairNeg(t, state)));
  await Promise.all(
    t.nodes.map(async (n) => {
      await loadKubeProxyRules(t, n, "Cluster");
      await nodeSysctls(n);
    }),
  );
  actions.push(`reloaded kube-proxy's filter and nat rules and ip_forward=1 on ${t.nodes.map((n) => n.name).join(", ")}`);
  for (const pod of t.pods) {
    const variant = state.podVariants?.[pod.name] ?? {};
    const running = processRunning(state.pids[pod.name]);
    if (running && Object.keys(variant).length === 0) continue;
    if (running) await killPid(state.pids[pod.name]);
    await startPod(t, pod, state, {});
    actions.push(`restarted ${pod.name} as lab up starts it (${running ? "it ran differently" : "it was stopped"})`);
  }
  const faults = state.faults ?? [];
  state.faults = [];
  delete state.externalTrafficPolicy;
  writeState(t, state);
  if (faults.length > 0) actions.push(`undid: ${faults.join(", ")}`);

  // Healthy again, then a history of passing checks only: a recent failure would read as flapping.
  const socket = labPaths(t).lbControlSocket;
  const deadline = Date.now() + waitMs;
  let status: LbStatus | undefined;
  for (;;) {
    const left = deadline - Date.now();
    const healthy = await waitForLb(socket, (s) => s.backends.every((b) => b.state === "HEALTHY"), Math.max(0, left));
    if (!healthy.met) throw new LabError(`lab repair: not every node is HEALTHY after ${waitMs} ms: ${describe(healthy.status)}`);
    await clearRecentChecks(socket);
    const steady = await waitForLb(socket, (s) => s.backends.every((b) => (b.recentChecks ?? []).length > 0), Math.max(0, deadline - Date.now()));
    status = steady.status ?? (await lbStatus(socket));
    if (steady.met && status.backends.every((b) => b.state === "HEALTHY" && (b.recentChecks ?? []).every((r) => r === "ok"))) break;
    if (Date.now() > deadline) throw new LabError(`lab repair: health checks still fail after ${waitMs} ms: ${describe(status)}`);
  }
  return { actions, status };
}

function describe(status: LbStatus | undefined): string {
  return status ? status.backends.map((b) => `${b.name} ${b.state}${b.lastCheckError ? ` (${b.lastCheckError})` : ""}`).join(", ") : "the LB does not answer";
}
