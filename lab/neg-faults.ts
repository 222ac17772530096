// The faults of the container-native path (`lab up --backend neg`): commonly reported causes of a
// broken NEG-backed Ingress (GKE's "Troubleshoot container-native load balancing", ingress-gce's
// tracker), made real in the lab's namespaces. lab/faults.ts lists them next to the article path's
// faults and calls repairNeg from `lab repair`.
import type { LabFault } from "./faults";
import { lbStatus, setGroupAttached } from "./lb-control";
import { createVeth, addRoute, deleteLink, execInNamespace, killPid } from "./netns";
import { healthyFirewallPorts, loadKubeProxyRulesFor, negLayout, placedPods, writeVpcFirewall, type PlacedPod } from "./neg";
import { labPaths, writeState, type LabState } from "./state";
import { nodeByName, type LabTopology } from "./topology";
import { interfaceNames, startPod } from "./up";

/** The pod the endpoint faults move, and its node: node-3 (pod-2's) is on the NEG path, node-2 is not. */
const POD = "pod-2";
const POD_NODE = "node-3";
/** where the endpoint-stale fault reschedules pod-2: node-2, which ran no pod */
const MOVED_TO = "node-2";

/**
 * Moves a pod's network and server to `nodeName` (the pod's namespace stays: same name, new
 * p-ip in the new node's range, as a StatefulSet pod rescheduled keeps its name) and records the
 * move in state.negMoves (removed when moving it home).
 */
export async function movePod(t: LabTopology, state: LabState, podName: string, nodeName: string): Promise<PlacedPod> {
  const names = interfaceNames(t);
  const k = t.pods.findIndex((p) => p.name === podName) + 1;
  const from = placedPods(t, state).find((p) => p.name === podName)!;
  await killPid(state.pids[podName]);
  // Deleting the node's end removes the pod's end too.
  await deleteLink(names.nodePodSide(k), nodeByName(t, from.nodeName).namespace);
  const moves = { ...(state.negMoves ?? {}) };
  if (nodeName === from.homeNode) delete moves[podName];
  else moves[podName] = nodeName;
  state.negMoves = Object.keys(moves).length > 0 ? moves : undefined;
  const to = placedPods(t, state).find((p) => p.name === podName)!;
  const node = nodeByName(t, nodeName);
  await createVeth(
    { namespace: node.namespace, ifname: names.nodePodSide(k), address: `${node.podGateway}/24` },
    { namespace: to.namespace, ifname: names.pod(k), address: `${to.ip}/24` },
  );
  await addRoute(to.namespace, "default", { via: node.podGateway });
  await startPod(t, to, state);
  writeState(t, state);
  return to;
}

async function iptablesOn(t: LabTopology, node: string, args: string[]): Promise<void> {
  await execInNamespace(nodeByName(t, node).namespace, ["iptables", "-w", ...args]);
}

export const NEG_FAULTS: LabFault[] = [
  {
    id: "endpoint-stale",
    backends: ["neg"],
    cause:
      "a pod moved while the NEG controller is behind (its sync failing or slow): the NEG still lists the old p-ip:p-port, " +
      "the pod's new address is missing from it, and the new pod's readiness gate waits",
    symptom:
      "the old endpoint UNHEALTHY in the NEG (nothing at that p-ip any more), pod-2 Running but not Ready (readiness gate " +
      "cloud.google.com/load-balancer-neg-ready False, 0/1 readiness gates), every request answered by pod-1",
    reported: "network-endpoint-group / neg-endpoints-missing and neg-endpoints-stale (the NEG), pod / neg-readiness-gate-stuck (pod-2)",
    how: (t) =>
      `move ${POD} from ${POD_NODE} to ${MOVED_TO} (new p-ip ${placedPods(t, { negMoves: { [POD]: MOVED_TO } }).find((p) => p.name === POD)!.ip}) ` +
      `and leave the NEG as it was; kube-proxy's rules follow the ready endpoints (pod-1)`,
    apply: async (t, state) => {
      await movePod(t, state, POD, MOVED_TO);
      // kube-proxy writes the Service's ready endpoints: the moved pod waits for its gate.
      const ready = placedPods(t, state).filter((p) => p.name !== POD);
      await Promise.all(t.nodes.map((n) => loadKubeProxyRulesFor(t, n, ready.map((p) => ({ ip: p.ip, port: t.service.podPort, nodeName: p.nodeName })))));
    },
    shows: (s) => s.backends.some((b) => b.group !== undefined && b.state === "UNHEALTHY"),
  },
  {
    id: "neg-zone-detached",
    backends: ["neg"],
    cause: "a zone with pods has no NEG backend in the backend service (the controller did not add that zone's NEG, e.g. a node pool grown into a new zone)",
    symptom: "pod-2 (lab-zone-c) Running and Ready but never answers: the LB sends every request to pod-1",
    reported: "backend-service / neg-zone-without-backend (lab-zone-c's NEG)",
    how: (t) => `detach ${negLayout(t).negName} in ${negLayout(t).zones[POD_NODE]} from the backend service (the LB neither checks nor uses it)`,
    apply: async (t) => {
      const layout = negLayout(t);
      await setGroupAttached(labPaths(t).lbControlSocket, layout.negName, false, layout.zones[POD_NODE]);
    },
    shows: (s) => s.backends.some((b) => b.group !== undefined && b.attached === false),
  },
  {
    id: "neg-forward-drop",
    backends: ["neg"],
    cause:
      "the pod's node does not forward to its pods: filter FORWARD policy DROP (Container-Optimized OS's host firewall, a hardening script) " +
      "without the node's accept rules for forwarded traffic; on the NEG path nothing marks the LB's connections, so KUBE-FORWARD does not accept them",
    symptom: "pod-2's endpoint UNHEALTHY (health checks time out), every request answered by pod-1",
    reported: "node-forwarding / forward-policy-drop (node-3)",
    how: (t) => `ip netns exec ${t.prefix}${POD_NODE} iptables -P FORWARD DROP`,
    apply: async (t) => {
      await iptablesOn(t, POD_NODE, ["-P", "FORWARD", "DROP"]);
    },
    shows: (s) => s.backends.some((b) => b.instance === POD_NODE && b.state === "UNHEALTHY"),
  },
  {
    id: "firewall-no-pod-port",
    backends: ["neg"],
    cause:
      "the firewall rule for the health-check ranges admits the node-port range but not p-port (ingress-gce #1461, #703: a named targetPort " +
      "left the pods' port out of the L7 rule), so health checks and requests never reach the pods",
    symptom: "every endpoint UNHEALTHY (health checks time out), clients get 503 (502 on GKE), the pods Running and answering on the node",
    reported: "firewall / neg-firewall-pod-port (node-1, node-3)",
    how: (t) =>
      `rewrite the lab's VPC firewall chain (LAB-VPC-FIREWALL in ${t.lb.namespace}, standing for ${t.lb.firewallRule}) to admit tcp:30000-32767 only`,
    apply: async (t) => {
      await writeVpcFirewall(t, interfaceNames(t).lbBridge, healthyFirewallPorts(t).filter((p) => p !== String(t.service.podPort)));
    },
    shows: (s) => s.backends.every((b) => b.state === "UNHEALTHY"),
  },
];

/**
 * The NEG half of `lab repair`: moved pods back home, every zone's NEG attached again, the VPC
 * firewall as `lab up` wrote it. Returns what it did (the caller reloads kube-proxy's rules).
 */
export async function repairNeg(t: LabTopology, state: LabState): Promise<string[]> {
  const actions: string[] = [];
  for (const pod of Object.keys(state.negMoves ?? {})) {
    const home = t.pods.find((p) => p.name === pod)!;
    await movePod(t, state, pod, home.nodeName);
    actions.push(`moved ${pod} back to ${home.nodeName} (${home.ip})`);
  }
  const layout = negLayout(t);
  const socket = labPaths(t).lbControlSocket;
  // Only the detached ones: attaching starts a NEG's health over.
  const detached = new Set((await lbStatus(socket)).backends.filter((b) => b.attached === false).map((b) => b.zone));
  for (const zone of layout.negZones.filter((z) => detached.has(z))) await setGroupAttached(socket, layout.negName, true, zone);
  await writeVpcFirewall(t, interfaceNames(t).lbBridge, healthyFirewallPorts(t));
  actions.push(`attached ${layout.negName} in ${layout.negZones.join(", ")}; VPC firewall admits tcp:${healthyFirewallPorts(t).join(",")}`);
  return actions;
}
