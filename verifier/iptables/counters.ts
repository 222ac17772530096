// Which rules moved between two counter snapshots (`iptables-save -c -t nat` before and after
// sending requests): the verifier's proof that traffic really took a path. Rules are matched by
// chain + rule text (the k-th identical rule with the k-th), so line shifts do not matter.
import type { Rule } from "./graph";
import { detectFormat, parseDump } from "./trace";

export interface RuleDelta {
  chain: string;
  text: string;
  /** line of the rule in the `after` dump */
  line: number;
  packets: number;
  bytes: number;
}

/** Rules with counters, each once (nft verdict maps expand to several rules on one line). */
function countedRules(text: string): Rule[] {
  const format = detectFormat(text);
  if (format === undefined) return [];
  const out: Rule[] = [];
  const seenLines = new Set<number>();
  for (const chain of parseDump(text, format).chains.values()) {
    for (const rule of chain.rules) {
      if (rule.packets === undefined || seenLines.has(rule.line)) continue;
      seenLines.add(rule.line);
      out.push(rule);
    }
  }
  return out;
}

/** In the -L format the text holds the counters; compare rules without them. */
function identity(rule: Rule): string {
  const text = /^\s*\d+[KMGT]?\s+\d+[KMGT]?\s+/.test(rule.text) ? rule.text.replace(/^\s*\d+[KMGT]?\s+\d+[KMGT]?\s+/, "") : rule.text;
  return `${rule.chain}\u0000${text.replace(/counter packets \d+ bytes \d+/, "counter")}`;
}

/**
 * Rules whose packet or byte count grew from `before` to `after`, in the order of `after`.
 * A rule missing from `before` counts from zero; a counter that went down (the rule was
 * replaced and its counters reset) counts from zero too.
 */
export function counterDeltas(before: string, after: string): RuleDelta[] {
  const previous = new Map<string, Rule[]>();
  for (const r of countedRules(before)) {
    const id = identity(r);
    const list = previous.get(id);
    if (list) list.push(r);
    else previous.set(id, [r]);
  }
  const used = new Map<string, number>();
  const deltas: RuleDelta[] = [];
  for (const r of countedRules(after).sort((a, b) => a.line - b.line)) {
    const id = identity(r);
    const k = used.get(id) ?? 0;
    used.set(id, k + 1);
    const old = previous.get(id)?.[k];
    let packets = r.packets! - (old?.packets ?? 0);
    let bytes = (r.bytes ?? 0) - (old?.bytes ?? 0);
    if (packets < 0 || bytes < 0) {
      packets = r.packets!;
      bytes = r.bytes ?? 0;
    }
    if (packets !== 0 || bytes !== 0) deltas.push({ chain: r.chain, text: r.text, line: r.line, packets, bytes });
  }
  return deltas;
}
