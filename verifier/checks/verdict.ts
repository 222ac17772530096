// Small shared pieces of every check: combining partial verdicts, building results.
import type { CheckResult, ClaimId, Evidence, Verdict } from "../model";

/** Any fail wins (a definite counter-example), then any unknown part; nothing known is unknown. */
export function combine(parts: Verdict[]): Verdict {
  if (parts.length === 0) return "cannot-tell";
  if (parts.includes("fail")) return "fail";
  if (parts.includes("cannot-tell")) return "cannot-tell";
  return "pass";
}

export function result(id: ClaimId, claim: string, verdict: Verdict, summary: string, evidence: Evidence[]): CheckResult {
  return { id, claim, verdict, summary, evidence };
}

export function plural(n: number, word: string, many = word + "s"): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function list(items: string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}

/** "node-4, node-5, node-6 and 94 more": a few names of many, for one line. */
export function someNames(names: string[], shown = 4): string {
  return names.length <= shown ? names.join(", ") : `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`;
}
