// C12: requests to the public IP, answered by the pods, plus the per-rule connection counts.
// "Every pod" is every Ready pod: Kubernetes lists only those as ready endpoints, and on the NEG path
// a pod whose readiness gate waits for the LB is not Ready, so the LB may not send to it yet; such
// a pod is named with why it is not counted, and whether it would answer is left unknown.
import type { CheckResult, Evidence, PodModel, RequestResult } from "../model";
import { NEG_READINESS_GATE } from "../neg";
import { problemText, type CheckContext } from "./context";
import { accountNewConnections } from "./connections";
import { negPathView, unreachedPods, unreachedText } from "./neg-path";
import { list, plural, result } from "./verdict";

export const CLAIM_C12 = "Requests to the public IP get HTTP 200 from every pod";

export function checkC12(ctx: CheckContext): CheckResult {
  const requests = ctx.model.requests;
  if (!requests || requests.results.length === 0) {
    return result("C12", CLAIM_C12, "cannot-tell", `No request was sent: ${list(problemText(ctx.model, ["requests", "input"]))}`, []);
  }
  const results = requests.results;
  const evidence: Evidence[] = [];
  const fr = ctx.model.loadBalancer?.forwardingRule;
  const host = safeHost(requests.url);
  evidence.push({ source: "requests", detail: `${plural(results.length, "request")} to ${requests.url}${requests.keepAlive ? " (one keep-alive connection)" : " (a new connection each)"}${fr && host ? (host === fr.ipAddress ? `; ${host} is forwarding rule ${fr.name}'s IP` : `; note: ${host} is not the forwarding rule's IP ${fr.ipAddress}`) : ""}` });

  const failures: string[] = [];
  const errors = countBy(results.filter((r) => r.status === undefined), (r) => r.error ?? "no answer");
  const statuses = countBy(results.filter((r) => r.status !== undefined && r.status !== 200), (r) => `HTTP ${r.status}`);
  for (const [what, n] of [...errors, ...statuses]) {
    evidence.push({ source: "requests", detail: `${n} × ${what}` });
    failures.push(`${n} × ${what}`);
  }

  const ok = results.filter((r) => r.status === 200);
  const pods = ctx.pods.filter((p) => p.ready);
  const notReady = ctx.pods.filter((p) => !p.ready);
  const unmatched = countBy(ok.filter((r) => !pods.some((p) => matches(r, p))), (r) => r.podName ?? r.podIp ?? "(answer names no pod)");
  for (const pod of pods) {
    const n = ok.filter((r) => matches(r, pod)).length;
    evidence.push({ source: `kubernetes pod ${pod.name}`, detail: `${pod.ip ?? "?"}: answered ${n} of ${results.length}` });
  }
  for (const pod of notReady) {
    const n = ok.filter((r) => matches(r, pod)).length;
    evidence.push({ source: `kubernetes pod ${pod.name}`, detail: `${pod.ip ?? "?"}: not Ready (${whyNotReady(pod)}): not counted; answered ${n} of ${results.length}` });
  }
  if (pods.length > 0) {
    for (const [who, n] of unmatched) {
      evidence.push({ source: "requests", detail: `${n} answers from ${who}, which is not a ready pod of the Service` });
      failures.push(`${n} answers from ${who}, not a ready pod of the Service`);
    }
  }

  const account = accountNewConnections(ctx.model);
  for (const node of account?.nodes ?? []) {
    const source = `node ${node.node}: iptables-save -c -t nat before/after`;
    if (node.unavailable) evidence.push({ source, detail: node.unavailable });
    else {
      const entries = node.nodePortEntries;
      if (entries) evidence.push({ source, node: node.node, line: entries.line, rule: entries.rule, detail: `+${plural(entries.newConnections, "new connection")} entered by nodePort (line ${entries.line}: ${entries.rule})` });
      node.endpoints.forEach((e) =>
        evidence.push({ source, node: node.node, line: e.line, rule: e.rule, detail: `+${plural(e.newConnections, "new connection")} to ${e.endpoint}${e.pod ? ` (${e.pod})` : ""} (line ${e.line}: ${e.rule})` }),
      );
      if (node.endpoints.length === 0) evidence.push({ source, detail: "no DNAT rule of the Service moved" });
    }
  }
  let contrast = "";
  if (account && ctx.mode.neg.detected) {
    // the article's contrast: on the NEG path the LB sends to p-ip:p-port, so n-port's counters stay still
    const counted = account.nodes.filter((n) => !n.unavailable);
    const entered = counted.reduce((sum, n) => sum + (n.nodePortEntries?.newConnections ?? 0), 0);
    if (counted.length > 0) {
      contrast = entered === 0
        ? ` KUBE-NODEPORTS counted no new connection on ${plural(counted.length, "node")} while the pods answered: the NEG path skips the nodes' nat box.`
        : ` KUBE-NODEPORTS counted ${plural(entered, "new connection")} on the nodes: these requests entered by n-port, not through the NEG.`;
      evidence.push({ source: "counters", detail: contrast.trim() });
    }
  }
  if (account) {
    // What a counter step means is said once, by the report (account.explanation), not per run here.
    evidence.push({ source: "counters", detail: `${plural(account.total, "new connection")} DNATed to the pods on all nodes for ${plural(account.requests, "request")}` });
  }

  // Not one HTTP answer: the LB (or the way to it) is unreachable from here, which says nothing
  // about the path itself; a new GKE LB also needs minutes after `pulumi up` before it answers.
  if (results.every((r) => r.status === undefined)) {
    return result("C12", CLAIM_C12, "cannot-tell", `None of the ${results.length} requests got an HTTP answer (${errors.map(([what, n]) => `${n} × ${what}`).join(", ")}); a new load balancer needs a few minutes after \`pulumi up\`, or ${host ?? "the URL"} is not reachable from here.`, evidence);
  }
  if (failures.length > 0) return result("C12", CLAIM_C12, "fail", `${ok.length} of ${results.length} got 200; ${failures.join("; ")}`, evidence);
  if (pods.length === 0 && notReady.length > 0) {
    return result("C12", CLAIM_C12, "cannot-tell", `${ok.length} of ${results.length} got 200, but no pod of the Service is Ready to count them against.${uncounted(notReady)}`, evidence);
  }
  if (pods.length === 0) {
    return result("C12", CLAIM_C12, "cannot-tell", `${ok.length} of ${results.length} got 200, but the pods are unknown: ${list(problemText(ctx.model, ["kubernetes", "lab"]))}`, evidence);
  }
  const silent = pods.filter((p) => !ok.some((r) => matches(r, p)));
  // On the NEG path a pod no NEG backend holds gets nothing however many requests are sent: that is
  // a broken path (its cause is in the diagnosis), not a sample too small.
  const view = ctx.mode.neg.detected && silent.length > 0 ? negPathView(ctx) : undefined;
  const unreached = view ? unreachedPods(ctx, view).filter((u) => silent.some((p) => p.name === u.pod)) : [];
  if (unreached.length > 0) {
    const bs = view!.backendServices[0]?.name;
    for (const u of unreached) evidence.push({ source: `kubernetes pod ${u.pod}`, detail: `${unreachedText(u, bs)}${u.node ? ` (on ${u.node})` : ""}` });
    const rest = silent.filter((p) => !unreached.some((u) => u.pod === p.name));
    return result(
      "C12",
      CLAIM_C12,
      "fail",
      `${ok.length} of ${results.length} got 200, but ${unreached.map((u) => `${u.pod} never answered: ${unreachedText(u, bs)}`).join("; ")}; more requests would not change that (the diagnosis names the cause).${rest.length > 0 ? ` ${rest.map((p) => p.name).join(", ")} never answered either.` : ""}${uncounted(notReady)}`,
      evidence,
    );
  }
  if (silent.length > 0) {
    return result(
      "C12",
      CLAIM_C12,
      "cannot-tell",
      `All ${results.length} got 200, but ${silent.map((p) => p.name).join(", ")} never answered; the LB reuses its connections to the ${ctx.mode.neg.detected ? "NEG endpoints" : "nodes"}, so a few requests can miss a pod: retry with more --requests.${uncounted(notReady)}`,
      evidence,
    );
  }
  const every = notReady.length > 0 ? `every Ready pod (${pods.length} of ${ctx.pods.length}): ` : "";
  return result("C12", CLAIM_C12, "pass", `All ${results.length} requests got 200, answered by ${every}${pods.map((p) => `${p.name} (${ok.filter((r) => matches(r, p)).length})`).join(", ")}.${uncounted(notReady)}${contrast}`, evidence);
}

/** Why a pod is not Ready, as its status says: the NEG readiness gate first (it waits for the LB). */
function whyNotReady(pod: PodModel): string {
  const gate = (pod.readinessGates ?? []).includes(NEG_READINESS_GATE) ? pod.conditions?.find((c) => c.type === NEG_READINESS_GATE) : undefined;
  if ((pod.readinessGates ?? []).includes(NEG_READINESS_GATE) && gate?.status !== "True") return `its readiness gate ${NEG_READINESS_GATE} is ${gate?.status ?? "not set"}${gate?.reason ? `, ${gate.reason}` : ""}`;
  const ready = pod.conditions?.find((c) => c.type === "Ready");
  if (ready) return `condition Ready ${ready.status}${ready.reason ? `, ${ready.reason}` : ""}`;
  return pod.phase && pod.phase !== "Running" ? `phase ${pod.phase}` : "Kubernetes lists it as not ready";
}

/** What C12 does not count, and what it therefore cannot tell. */
function uncounted(notReady: PodModel[]): string {
  if (notReady.length === 0) return "";
  const names = notReady.map((p) => `${p.name} (${whyNotReady(p)})`).join(", ");
  return ` Not counted: ${names}, not Ready, so the LB need not send to ${notReady.length === 1 ? "it" : "them"}: whether ${notReady.length === 1 ? "it answers" : "they answer"} cannot be told from these requests.`;
}

function matches(r: RequestResult, pod: { name: string; ip?: string }): boolean {
  return (r.podName !== undefined && r.podName === pod.name) || (r.podIp !== undefined && r.podIp === pod.ip);
}

function countBy<T>(items: T[], key: (t: T) => string): [string, number][] {
  const m = new Map<string, number>();
  items.forEach((i) => m.set(key(i), (m.get(key(i)) ?? 0) + 1));
  return [...m];
}

function safeHost(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
