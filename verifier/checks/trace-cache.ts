// The checks and every report read the same few node dumps; tracing a large one (and diffing two
// counted ones) costs far more than everything else, so each is done once per process. Dumps are
// immutable strings, so the texts themselves are the keys; only the most recent entries are kept.
import type { TraceResult } from "../iptables/types";
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

export function tracedDump(text: string, nodeIP?: string): TraceResult {
  return traceMemo(nodeIP ?? "", text);
}

export function memoCounterDeltas(before: string, after: string): ReturnType<typeof counterDeltas> {
  return deltaMemo(before, after);
}
