// The diagnosis: when a claim fails, which hop broke and why (design.md, "contract: verify report
// JSON"). Pure: the model and the claims' results in, causes out, ordered along the path from the
// client. Every failing claim is explained by a cause, or listed with cause "unexplained".
import { DIAGNOSIS_HOPS, type CheckResult, type ClaimId, type Diagnosis, type DiagnosisHop, type PathModel } from "../model";
import { buildContext, type CheckContext } from "./context";
import { cloudCauses } from "./diagnosis-cloud";
import { negCauses } from "./diagnosis-neg";
import { nodeCauses } from "./diagnosis-nodes";

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
  causes.splice(0, causes.length, ...mergeSameCause(causes));
  const explained = new Set(causes.flatMap((c) => c.claims ?? []));
  for (const r of results) {
    if (r.verdict !== "fail" || explained.has(r.id)) continue;
    causes.push({
      hop: CLAIM_HOP[r.id],
      subject: model.target.clusterName ?? model.target.kind,
      cause: "unexplained",
      summary: `${r.id} fails and no known cause explains it: ${r.summary}`,
      evidence: r.evidence,
      fix: "read the claim's evidence below; if the cause is a common one, report it so the verifier learns to name it",
      claims: [r.id],
    });
  }
  return orderAlongPath(causes);
}
