// The checks and every report read the same few node dumps; tracing a large one (and diffing two
// counted ones) costs far more than everything else, so each is done once per process. Dumps are
// immutable strings, so the texts themselves are the keys; only the most recent entries are kept.
import type { RuleRef, TraceResult, TracedEndpoint, UnresolvedShare } from "../iptables/types";
import { traceDump } from "../iptables/trace";
import { counterDeltas } from "../iptables/counters";

const MAX_ENTRIES = 16;

/** A two-level memo (first key -> text -> value) that forgets everything when full. */
function memo<V>(compute: (first: string, text: string) => V): (first: string, text: string) => V {
  const cache = new Map<string, Map<string, V>>();
  let size = 0;
  return (first, text) => {
    const hit = cache.get(first)?.get(text);
    if (hit !== undefined) return hit;
    if (size >= MAX_ENTRIES) {
      cache.clear();
      size = 0;
    }
    const value = compute(first, text);
    if (!cache.has(first)) cache.set(first, new Map());
    cache.get(first)!.set(text, value);
    size++;
    return value;
  };
}

// a node's dump is whole: a PREROUTING without kube-proxy's jump is a fact, not a gap of a paste
const traceMemo = memo((nodeIP, text) => traceDump(text, nodeIP ? { nodeIP, wholeDump: true } : { wholeDump: true }));
const deltaMemo = memo((before, after) => counterDeltas(before, after));

/**
 * The trace of a node's dump. `lines` (NatDump.lineNumbers, set when the dump was cut down to one
 * Service's rules) maps each line of `text` to the node's own line number: evidence, warnings and
 * unresolved reasons then quote lines as the node printed them.
 */
export function tracedDump(text: string, nodeIP?: string, lines?: number[]): TraceResult {
  const result = traceMemo(nodeIP ?? "", text);
  return lines ? remappedMemo(result, lines) : result;
}

export function memoCounterDeltas(before: string, after: string, lines?: number[]): ReturnType<typeof counterDeltas> {
  const deltas = deltaMemo(before, after);
  return lines ? deltas.map((d) => ({ ...d, line: lines[d.line - 1] ?? d.line })) : deltas;
}

const remapped = new WeakMap<TraceResult, TraceResult>();

function remappedMemo(result: TraceResult, lines: number[]): TraceResult {
  let hit = remapped.get(result);
  if (!hit) remapped.set(result, (hit = remapLines(result, lines)));
  return hit;
}

/** A copy of a trace whose line numbers (rule evidence, "line N" in texts) go through `lines`. */
function remapLines(result: TraceResult, lines: number[]): TraceResult {
  const line = (n: number) => lines[n - 1] ?? n;
  const text = (t: string) => t.replace(/\bline (\d+)/g, (_, n: string) => `line ${line(Number(n))}`);
  const endpoints = <T extends { evidence?: RuleRef[] }>(list: T[] | null) => list && list.map((e) => (e.evidence ? { ...e, evidence: e.evidence.map((r) => ({ ...r, line: line(r.line) })) } : e));
  const unresolved = (list: UnresolvedShare[] | null) => list && list.map((u) => ({ ...u, reason: text(u.reason) }));
  return {
    ...result,
    warnings: result.warnings.map(text),
    services: result.services.map((s) => ({
      ...s,
      endpoints: endpoints(s.endpoints) as TracedEndpoint[],
      unresolved: unresolved(s.unresolved) as UnresolvedShare[],
      nodePortEndpoints: endpoints(s.nodePortEndpoints),
      nodePortUnresolved: unresolved(s.nodePortUnresolved),
    })),
  };
}

/** The node's own line number of line `line` (1-based) of a dump's text (NatDump.lineNumbers when the dump was cut down). */
export function dumpLine(dump: { lineNumbers?: number[] }, line: number): number {
  return dump.lineNumbers?.[line - 1] ?? line;
}
