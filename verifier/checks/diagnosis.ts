// The diagnosis: when a claim fails, which hop broke and why (design.md, "contract: verify report
// JSON"). Pure: the model and the claims' results in, causes out, ordered along the path from the
// client. Every failing claim is explained by a cause, or listed with cause "unexplained".
import { DIAGNOSIS_HOPS, type CheckResult, type ClaimId, type Diagnosis, type DiagnosisHop, type PathModel } from "../model";
import { buildContext, type CheckContext } from "./context";
import { cloudCauses } from "./diagnosis-cloud";
import { fixesForTarget } from "./diagnosis-lab";
import { negCauses } from "./diagnosis-neg";
import { NODE_HOPS, nodeCauses, nodesOfClaim } from "./diagnosis-nodes";

/** A family of causes: reads the context and the claims' results, names what it finds. Pure. */
export type CauseFinder = (ctx: CheckContext, results: CheckResult[]) => Diagnosis[];

/** Google Cloud and Kubernetes API causes (forwarding rule .. instance group, service, endpoints), then node-side ones. */
const FINDERS: CauseFinder[] = [cloudCauses, negCauses, nodeCauses];

/** The hop a claim speaks about, for a failing claim no cause explains. */
const CLAIM_HOP: Record<ClaimId, DiagnosisHop> = {
  C1: "node",
  C2: "node-nat",
  C3: "node-nat",
  C4: "node-nat",
  C5: "node",
  C6: "node-nat",
  C7: "endpoints",
  C8: "pod",
  C9: "forwarding-rule",
  C10: "backend-service",
  C11: "health-check",
  C12: "client",
};

/** Causes ordered along the path from the client; within a hop, by subject. */
export function orderAlongPath(causes: Diagnosis[]): Diagnosis[] {
  const rank = (h: DiagnosisHop) => DIAGNOSIS_HOPS.indexOf(h);
  return [...causes].sort((a, b) => rank(a.hop) - rank(b.hop) || a.subject.localeCompare(b.subject));
}

/**
 * One cause named by both finders (the API side sees the health check fail, the nodes see which
 * pod answers what): keep the entries at the hop furthest along the path, the most specific, and
 * give the first of them the other entries' evidence and claims, so nothing is said twice.
 */
export function mergeSameCause(causes: Diagnosis[]): Diagnosis[] {
  const rank = (h: DiagnosisHop) => DIAGNOSIS_HOPS.indexOf(h);
  const out: Diagnosis[] = [];
  for (const id of new Set(causes.map((c) => c.cause))) {
    const same = causes.filter((c) => c.cause === id);
    const deepest = Math.max(...same.map((c) => rank(c.hop)));
    const kept = same.filter((c) => rank(c.hop) === deepest).map((c) => ({ ...c, evidence: [...c.evidence], claims: [...(c.claims ?? [])] }));
    for (const dropped of same.filter((c) => rank(c.hop) !== deepest)) {
      const first = kept[0]!;
      for (const e of dropped.evidence) if (!first.evidence.some((k) => k.source === e.source && k.detail === e.detail)) first.evidence.push(e);
      for (const c of dropped.claims ?? []) if (!first.claims!.includes(c)) first.claims!.push(c);
    }
    out.push(...kept);
  }
  return out;
}

/** Causes at a pod that keep its NEG readiness gate False: the LB sees the pod's endpoint fail. */
const GATE_ROOT_CAUSES = new Set(["health-check-path-not-200", "pod-port-refused", "app-bound-to-loopback", "pod-listens-on-other-port", "pod-port-timeout"]);

/**
 * A pod's neg-readiness-gate-stuck is a symptom when the same pod has a cause the LB's health check
 * sees (it answers 404, refuses, hangs): the gate waits for the LB's word on that endpoint. The
 * symptom is folded into its cause (evidence and claims), so the root cause is what is named.
 */
export function foldGateSymptoms(causes: Diagnosis[]): Diagnosis[] {
  const out = causes.map((c) => ({ ...c }));
  return out.filter((c) => {
    if (c.cause !== "neg-readiness-gate-stuck") return true;
    const root = out.find((r) => r.hop === "pod" && r.subject === c.subject && GATE_ROOT_CAUSES.has(r.cause));
    if (!root) return true;
    root.evidence = [...root.evidence, ...c.evidence.filter((e) => !root.evidence.some((k) => k.source === e.source && k.detail === e.detail))];
    root.claims = [...new Set([...(root.claims ?? []), ...(c.claims ?? [])])];
    return false;
  });
}

/**
 * A failing claim no cause explains: named at the nodes it fails on (the whole cluster only when it
 * names none), with what the walk compared there and what to save next to find the cause.
 */
function unexplained(ctx: CheckContext, r: CheckResult, cluster: string): Diagnosis {
  const { failing, others } = ctx.nodes.length > 0 ? nodesOfClaim(ctx, r) : { failing: [], others: [] };
  const generic = "read the claim's evidence below; if the cause is a common one, report it so the verifier learns to name it";
  if (failing.length === 0) {
    return { hop: CLAIM_HOP[r.id], subject: cluster, cause: "unexplained", summary: `${r.id} fails and no known cause explains it: ${r.summary}`, evidence: r.evidence, fix: generic, claims: [r.id] };
  }
  const where = failing.join(", ");
  const nport = ctx.nodePort ?? "<n-port>";
  const compared = `compared the Service's path on ${where} (nat PREROUTING -> KUBE-SERVICES -> KUBE-NODEPORTS -> KUBE-EXT -> KUBE-SVC -> KUBE-SEP -> DNAT, nat POSTROUTING, filter FORWARD) with ${others.length > 0 ? others.join(", ") : "kube-proxy's rules for the Service"}: no link differs`;
  return {
    hop: CLAIM_HOP[r.id],
    subject: where,
    cause: "unexplained",
    summary: `${r.id} fails on ${where} and no known cause explains it: ${r.summary}. The walk ${compared}`,
    evidence: r.evidence,
    fix: `on ${where}: save \`iptables-save -c\` before and after sending requests (which rules count the connections), \`conntrack -L -p tcp --dport ${nport}\`, \`ip route get <p-ip>\`, \`sysctl net.ipv4.ip_forward net.ipv4.conf.all.rp_filter\` and \`ss -Hltnp\`, and compare them with ${others[0] ?? "a node where the claim holds"}; ${generic}`,
    claims: [r.id],
  };
}

/**
 * A failing C11 or C12 whose nodes (the ones the LB's health names) each already have a cause of
 * their own: those causes explain it too, and take the claim. The LB's state is read before the
 * requests, so a node failing half its checks can be UNHEALTHY when read (and not linked to C12
 * then) yet HEALTHY again while the requests it takes fail. Returns whether it was claimed.
 */
function claimedByNodeCauses(ctx: CheckContext, r: CheckResult, causes: Diagnosis[]): boolean {
  if (r.id !== "C11" && r.id !== "C12") return false;
  const { failing } = nodesOfClaim(ctx, r);
  const at = (node: string) => causes.filter((c) => NODE_HOPS.has(c.hop) && c.cause !== "unexplained" && c.subject.split(", ").includes(node));
  if (failing.length === 0 || !failing.every((n) => at(n).length > 0)) return false;
  for (const c of new Set(failing.flatMap(at))) c.claims = [...new Set([...(c.claims ?? []), r.id])];
  return true;
}

/**
 * The diagnosis of a verify run: [] when every claim holds or is only cannot-tell.
 * A failing claim that no cause names in `claims` becomes one "unexplained" entry.
 */
export function diagnose(model: PathModel, results: CheckResult[]): Diagnosis[] {
  const ctx = buildContext(model);
  const causes: Diagnosis[] = [];
  // One finder's bug must not hide the others' causes, nor the failing claims themselves.
  for (const find of FINDERS) {
    try {
      causes.push(...find(ctx, results));
    } catch {
      /* its claims stay unexplained below */
    }
  }
  causes.splice(0, causes.length, ...foldGateSymptoms(mergeSameCause(causes)));
  const explained = new Set(causes.flatMap((c) => c.claims ?? []));
  for (const r of results) {
    if (r.verdict !== "fail" || explained.has(r.id)) continue;
    if (claimedByNodeCauses(ctx, r, causes)) continue;
    const nodeSide = nodeFilesWouldExplain(model, r);
    if (nodeSide) {
      causes.push({ hop: "node", cause: "unexplained", evidence: r.evidence, claims: [r.id], ...nodeSide });
      continue;
    }
    causes.push(unexplained(ctx, r, model.target.clusterName ?? model.target.kind));
  }
  return orderAlongPath(fixesForTarget(causes, model));
}

/**
 * For a failing C11 / C12 judged from a snapshot folder that has no node files for the failing
 * nodes: the API objects show no cause, and the rest of the path (nat rules, forwarding, the pods'
 * answers) is on those nodes. Says which node files would show it and the command that saves them
 * (the hint the snapshot source put on each node's problem). Undefined otherwise.
 */
function nodeFilesWouldExplain(model: PathModel, r: CheckResult): Pick<Diagnosis, "subject" | "summary" | "fix"> | undefined {
  if (r.id !== "C11" && r.id !== "C12") return undefined;
  const withoutFiles = model.nodes.filter((n) => n.transport === "snapshot" && !n.reachable).map((n) => n.name);
  if (withoutFiles.length === 0) return undefined;
  const unhealthy = new Set((model.loadBalancer?.backendServices ?? []).flatMap((b) => b.health).filter((h) => h.state !== "HEALTHY").map((h) => h.instance));
  const nodes = unhealthy.size > 0 ? withoutFiles.filter((n) => unhealthy.has(n)) : withoutFiles;
  if (nodes.length === 0) return undefined;
  const hints = [...new Set(model.problems.filter((p) => (p.source === "ssh" || p.source === "snapshot") && p.subject !== undefined && nodes.includes(p.subject) && p.hint).map((p) => p.hint!.replace(/^save them: /, "")))];
  const files = nodes.map((n) => `nodes/${n}/`).join(", ");
  return {
    subject: nodes.join(", "),
    summary: `${r.id} fails (${r.summary}) and the API objects in the folder show no cause; what is left of the path is on ${nodes.join(", ")} (kube-proxy's nat rules, forwarding, the pods' answers), and the folder has no node files for ${nodes.length === 1 ? "it" : "them"}`,
    fix: `save iptables-save.txt, ip-o-addr-show.txt and ss-Hltnp.txt under ${files}: ${hints.length > 0 ? hints.join("; ") : "see the problems below"}; then judge the folder again (npm run verify -- --snapshot ${model.target.origin?.snapshot ?? "DIR"})`,
  };
}
