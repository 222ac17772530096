// The fixes of a diagnosis said in the lab's language. The finders write fixes for GKE (kubectl,
// gcloud, a kube-proxy pod); the lab has none of those: its answer is `npm run lab -- repair`, which
// puts back what `lab up` built, and by-hand commands run in the lab's own namespaces
// (`ip netns exec <prefix>node-2 ...`). The model says the target is the lab (the lab source sets
// target.kind and target.lab), so nothing here imports lab/.
import type { Diagnosis, PathModel } from "../model";

/** What `lab repair` does for a cause, and the by-hand command where there is a short one. */
type LabFix = (d: Diagnosis, ns: (subject: string) => string, podPort: string) => string;

const LAB_FIXES: Record<string, LabFix> = {
  "kube-proxy-rules-missing": (d) => `reloads ${d.subject}'s kube-proxy-style nat rules as lab up wrote them (the lab runs no kube-proxy to do it)`,
  "service-rules-missing": (d) => `reloads ${d.subject}'s kube-proxy-style nat rules as lab up wrote them (the lab runs no kube-proxy to do it)`,
  "endpoint-rule-missing": (d) => `reloads ${d.subject}'s kube-proxy-style nat rules, KUBE-SEP DNAT rules included (the lab runs no kube-proxy to do it)`,
  "path-rule-missing": (d, ns) => `reloads ${d.subject}'s kube-proxy-style rules as lab up wrote them${byHand(d, ns)}`,
  "path-rule-differs": (d, ns) => `reloads ${d.subject}'s kube-proxy-style rules as lab up wrote them${byHand(d, ns)}`,
  "ip-forward-disabled": (d, ns) => `sets net.ipv4.ip_forward back to 1 on ${d.subject}; by hand: ip netns exec ${ns(d.subject)} sysctl -w net.ipv4.ip_forward=1`,
  "forward-policy-drop": (d, ns) =>
    `restores ${d.subject}'s FORWARD policy and its jump to KUBE-FORWARD; by hand: ip netns exec ${ns(d.subject)} iptables -P FORWARD ACCEPT, and if \`iptables -S FORWARD\` lacks it, ip netns exec ${ns(d.subject)} iptables -I FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
  "forward-rule-drop": (d, ns) => `reloads ${d.subject}'s filter rules; by hand: ip netns exec ${ns(d.subject)} iptables -D FORWARD <the rule quoted above>`,
  "pod-not-ready": (d) => `restarts ${d.subject}'s server process`,
  "pod-not-running": (d) => `restarts ${d.subject}'s server process`,
  "pod-listens-on-other-port": (_d, _ns, port) => `restarts the pods' servers listening on 0.0.0.0:${port}, the Service's targetPort`,
  "app-bound-to-loopback": (_d, _ns, port) => `restarts the pods' servers listening on 0.0.0.0:${port} instead of 127.0.0.1`,
  "pod-port-refused": (_d, _ns, port) => `restarts the pods' servers listening on 0.0.0.0:${port}`,
  "pod-port-timeout": (d) => `restarts ${d.subject}'s server process`,
  "health-check-path-not-200": () => "restarts the pods' servers answering 200 on the health check's path",
  "health-check-path-mismatch": () => "restarts the pods' servers answering 200 on the health check's path",
  "no-local-endpoint": () => "rewrites every node's rules for externalTrafficPolicy: Cluster (nothing to fix if Local is what you study: a pod-less node is unhealthy by design)",
  "external-traffic-policy-local": () => "rewrites every node's rules for externalTrafficPolicy: Cluster, the article's path",
  unexplained: (d) =>
    `puts the lab back as lab up made it (also after changes by hand); to see what differs first, run in the node's namespace (ip netns exec <prefix><node> ...): ${d.fix}`,
};

/** The cause's by-hand command (Diagnosis.command: the walk's iptables command), run in the node's namespace; "" when it has none. */
function byHand(d: Diagnosis, ns: (subject: string) => string): string {
  return d.command ? `; by hand: ip netns exec ${ns(d.subject)} ${d.command}` : "";
}

/**
 * The fix of one cause for the lab: `npm run lab -- repair` (as the lab source wrote it for the
 * reader's shell: with sudo when it is not root's) and what it does for this cause. Causes the
 * table does not know get the generic repair.
 */
export function labFix(d: Diagnosis, model: PathModel): string {
  const prefix = model.target.lab?.prefix ?? "";
  const ns = (subject: string) => `${prefix}${subject}`;
  const podPort = String(model.target.expected?.podPort ?? "p-port");
  const what = LAB_FIXES[d.cause]?.(d, ns, podPort) ?? "puts the lab back as lab up made it";
  return `${model.target.lab?.repair ?? "npm run lab -- repair"}: ${what}`;
}

/** The diagnosis with fixes in the target's language: unchanged for GKE, the lab's for the lab. */
export function fixesForTarget(causes: Diagnosis[], model: PathModel): Diagnosis[] {
  if (model.target.kind !== "lab") return causes;
  return causes.map((d) => ({ ...d, fix: labFix(d, model) }));
}
