// The tracer proper: walks one new connection through a chain graph and tells where its
// probability mass ends up. A rule that matches with probability p (statistic random, numgen)
// sends that fraction of what reaches it to its target and lets the rest fall through, so a
// kube-proxy cascade 1/n, 1/(n-1), ..., 1 gives each endpoint 1/n. Pure: no I/O.
import type { ChainGraph, Cond, Rule } from "./graph";
import { DROP_CHAINS, MASQ_CHAINS, MASQ_MARK, cidrContains, ipv4ToNumber, parseHostPort, singleAddress } from "./graph";

/** A new connection arriving from outside the node. */
export interface Packet {
  protocol: string;
  /** destination address; undefined = a node address that no rule names */
  dst: string | undefined;
  /** the destination is one of the node's own addresses */
  dstLocal: boolean;
  dport: number;
  mark: number;
  /** `dst` as a number, computed once per walk (IPv4 only) */
  dstNum?: number;
}

export interface WalkEndpoint {
  ip: string;
  port: number;
  share: number;
  /** chain holding the DNAT rule */
  chain: string;
  /** rules from the entry to the DNAT, in order (first path found) */
  path: Rule[];
  /** "comment": read from the jump's kube-proxy comment, the KUBE-SEP chain is not in the dump */
  from?: "comment";
}

export interface WalkUnresolved {
  chain: string;
  share: number;
  reason: string;
}

export interface WalkResult {
  endpoints: WalkEndpoint[];
  /** share dropped or rejected */
  dropped: number;
  /** share left un-DNATed (policy ACCEPT, RETURN from the hook, SNAT...) */
  notTranslated: number;
  /** share whose fate the dump does not show (missing chains, ends of undeclared chains, cut lines, loops) */
  unresolved: WalkUnresolved[];
  /** every chain entered */
  chains: Set<string>;
}

const EPSILON = 1e-12;
const NO_PATH: Rule[] = [];
const MAX_DEPTH = 64;
const INDEX_THRESHOLD = 16;

/** A big chain's rules by the single destination and port they pin: "*" / -1 = any. */
interface ChainIndex {
  byDst: Map<string, Map<number, number[]>>;
}

/** Walks share one graph; the per-chain indexes are built once per graph on first use. */
export class Walker {
  private readonly indexes = new Map<string, ChainIndex>();
  private readonly warnedLines = new Set<number>();
  private warnedMasq = false;

  /** `keepPaths` false: endpoints carry no rule path (the contract JSON has none; a big trace saves the copies) */
  constructor(
    private readonly graph: ChainGraph,
    private readonly warn: (message: string) => void,
    private readonly keepPaths = true,
  ) {}

  /** Reused by every walk of this walker: a big trace makes tens of thousands of walks. */
  private readonly state: WalkState = {
    endpoints: [],
    dropped: 0,
    notTranslated: 0,
    unresolved: new Map(),
    chains: new Set(),
    stack: new Set(),
    path: [],
  };

  /** Walk one new connection. The returned `chains` set is reused by the next walk: read it first. */
  walk(entry: string[], packet: Packet): WalkResult {
    const state = this.state;
    state.endpoints.length = 0;
    state.chains.clear();
    state.stack.clear();
    state.path.length = 0;
    state.unresolved.clear();
    state.dropped = state.notTranslated = 0;
    let weight = 1;
    const dstNum = packet.dst !== undefined ? ipv4ToNumber(packet.dst) : undefined;
    for (const chain of entry) {
      if (weight <= EPSILON) break;
      // a hook chain ends with its policy: what is not translated there reaches the next hook chain
      const before = state.notTranslated;
      const pkt: Packet = { protocol: packet.protocol, dst: packet.dst, dstLocal: packet.dstLocal, dport: packet.dport, mark: packet.mark, dstNum };
      const back = this.walkChain(chain, pkt, weight, state, 0);
      const passed = state.notTranslated - before + back;
      state.notTranslated = before;
      weight = passed;
    }
    state.notTranslated += weight;
    const endpoints: WalkEndpoint[] = [];
    for (const e of state.endpoints) {
      const out: WalkEndpoint = { ip: e.ip, port: e.port, share: round(e.share), chain: e.chain, path: e.path };
      if (e.from) out.from = e.from;
      endpoints.push(out);
    }
    return {
      endpoints,
      dropped: round(state.dropped),
      notTranslated: round(state.notTranslated),
      unresolved: [...state.unresolved.values()].map((u) => ({ chain: u.chain, share: round(u.share), reason: u.reason })),
      chains: state.chains,
    };
  }

  private unresolved(s: WalkState, chain: string, share: number, reason: string): void {
    const key = `${chain}|${reason}`;
    const seen = s.unresolved.get(key);
    if (seen) seen.share += share;
    else s.unresolved.set(key, { chain, share, reason });
  }

  /** Returns the weight that comes back to the caller (fell off the end, or RETURN). */
  private walkChain(name: string, pkt: Packet, weight: number, s: WalkState, depth: number): number {
    const caller = s.path[s.path.length - 1];
    // kube-proxy's helper chains mean what kube-proxy means by them, declared in the dump or not
    if (DROP_CHAINS.has(name)) {
      s.chains.add(name);
      s.dropped += weight;
      return 0;
    }
    const chain = this.graph.chains.get(name);
    if (!chain || (chain.rules.length === 0 && !chain.declared)) {
      if (MASQ_CHAINS.has(name)) {
        if (!this.warnedMasq && caller) {
          this.warnedMasq = true;
          this.warn(`line ${caller.line}: chain ${name} is not in the dump; assumed as kube-proxy writes it (set mark ${"0x" + MASQ_MARK.toString(16)} for masquerading and go on), here and for every other jump to it`);
        }
        pkt.mark = (pkt.mark | MASQ_MARK) >>> 0;
        return weight;
      }
      const hinted = caller && name.startsWith("KUBE-SEP-") ? endpointFromComment(caller.comment) : undefined;
      if (hinted) {
        if (caller) this.warnOnce(caller, `jumps to chain ${name}, which is not in the dump; its endpoint ${hinted.ip}:${hinted.port} is read from the rule's comment only`);
        const seen = findEndpoint(s.endpoints, hinted.ip, hinted.port, "comment");
        if (seen) seen.share += weight;
        else s.endpoints.push({ ip: hinted.ip, port: hinted.port, share: weight, chain: name, path: this.keepPaths ? [...s.path] : NO_PATH, from: "comment" });
        return 0;
      }
      if (caller) this.warnOnce(caller, `jumps to chain ${name}, which is not in the dump; where those connections go is unknown`);
      this.unresolved(s, name, weight, "not in the dump");
      return 0;
    }
    if (depth >= MAX_DEPTH || s.stack.has(name)) {
      if (caller) this.warnOnce(caller, `jump to ${name} loops; the trace stops there`);
      this.unresolved(s, name, weight, "the jump loops");
      return 0;
    }
    s.chains.add(name);
    s.stack.add(name);
    let w = weight;
    let returned = 0;
    const rules = chain.rules;
    const indexed = rules.length >= INDEX_THRESHOLD ? this.candidates(name, rules, pkt) : undefined;
    const count = indexed ? indexed.length : rules.length;
    for (let ci = 0; ci < count; ci++) {
      if (w <= EPSILON) break;
      const rule = rules[indexed ? indexed[ci] : ci];
      const p = this.matchProbability(rule, pkt);
      if (p <= 0) continue;
      const m = w * p;
      w -= m;
      s.path.push(rule);
      const t = rule.target;
      switch (t.k) {
        case "jump": {
          const mark = pkt.mark;
          const back = this.walkChain(t.chain, pkt, m, s, depth + 1);
          if (back <= EPSILON) pkt.mark = mark; // the branch ended inside; its marks do not apply to the rest
          w += back;
          break;
        }
        case "goto": {
          const mark = pkt.mark;
          returned += this.walkChain(t.chain, pkt, m, s, depth + 1);
          pkt.mark = mark;
          break;
        }
        case "dnat": {
          const port = t.port ?? pkt.dport;
          const seen = findEndpoint(s.endpoints, t.ip, port, undefined);
          if (seen) seen.share += m;
          else s.endpoints.push({ ip: t.ip, port, share: m, chain: rule.chain, path: this.keepPaths ? [...s.path] : NO_PATH });
          break;
        }
        case "return":
          returned += m;
          break;
        case "accept":
        case "nat-done":
          s.notTranslated += m;
          break;
        case "drop":
        case "reject":
          s.dropped += m;
          break;
        case "mark":
          if (p >= 1) pkt.mark = applyMark(pkt.mark, t.op, t.value, t.mask);
          w += m;
          break;
        case "continue":
          w += m;
          break;
        case "cut":
          this.unresolved(s, t.chain ?? rule.chain, m, `line ${rule.line} ${t.unreadable ? "could not be read" : "is cut"}`);
          break;
      }
      s.path.pop();
    }
    s.stack.delete(name);
    if (!chain.builtin && !chain.declared && !MASQ_CHAINS.has(name) && w > EPSILON) {
      // a chain seen only through its -A lines: its end, and any rule after the last shown, is unknown.
      // Not so for kube-proxy's masquerade helper: it marks and returns, declared in the dump or not.
      this.unresolved(s, name, w, "the rest of the chain is not in the dump");
      w = 0;
    }
    if (chain.builtin) {
      // end of a hook chain (or RETURN in it): the policy applies, no translation
      s.notTranslated += w + returned;
      return 0;
    }
    return w + returned;
  }

  /** Probability in [0,1] that a rule matches this packet; undecidable matches count as no match. */
  private matchProbability(rule: Rule, pkt: Packet): number {
    let p = 1;
    let unknown: string | undefined;
    const conds = rule.conds;
    for (let i = 0; i < conds.length; i++) {
      const c = conds[i];
      const r = evaluate(c, pkt);
      if (r === 0) return 0;
      if (r === undefined) unknown ??= c.k === "unknown" ? c.text : c.k === "inIface" ? `-i ${c.name}` : c.k;
      else p *= r;
    }
    if (unknown !== undefined) {
      const t = rule.target.k;
      if (t !== "continue" && t !== "mark") {
        this.warnOnce(rule, `cannot tell whether "${unknown}" matches a new connection from outside; traced as not matching`);
      }
      return 0;
    }
    return p;
  }

  private warnOnce(rule: Rule, message: string): void {
    if (this.warnedLines.has(rule.line)) return;
    this.warnedLines.add(rule.line);
    this.warn(`line ${rule.line}: ${message}`);
  }

  /** Rule indexes worth evaluating, in order. Big chains (KUBE-SERVICES, KUBE-NODEPORTS) are indexed. */
  private candidates(name: string, rules: Rule[], pkt: Packet): number[] {
    let index = this.indexes.get(name);
    if (!index) {
      index = buildIndex(rules);
      this.indexes.set(name, index);
    }
    const lists: number[][] = [];
    const exact = pkt.dst !== undefined ? index.byDst.get(pkt.dst) : undefined;
    const any = index.byDst.get("*");
    for (const byPort of [exact, any]) {
      if (byPort === undefined) continue;
      const l = byPort.get(pkt.dport);
      if (l) lists.push(l);
      const all = byPort.get(-1);
      if (all) lists.push(all);
    }
    if (lists.length === 1) return lists[0];
    return mergeSorted(lists);
  }
}

interface WalkState {
  /** in the order first reached; one walk reaches a handful, so a list beats a keyed map */
  endpoints: WalkEndpoint[];
  dropped: number;
  notTranslated: number;
  unresolved: Map<string, WalkUnresolved>;
  chains: Set<string>;
  stack: Set<string>;
  path: Rule[];
}

/** Merge ascending index lists (at most four, usually two short ones). */
function mergeSorted(lists: number[][]): number[] {
  const out: number[] = [];
  const pos = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (pos[i] < lists[i].length && (best < 0 || lists[i][pos[i]] < lists[best][pos[best]])) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best][pos[best]++]);
  }
}

function buildIndex(rules: Rule[]): ChainIndex {
  const byDst = new Map<string, Map<number, number[]>>();
  rules.forEach((rule, i) => {
    let dst = "*";
    let dport = -1;
    for (const c of rule.conds) {
      if (c.k === "dst" && !c.neg && c.cidrs.length === 1) {
        const a = singleAddress(c.cidrs[0]);
        if (a !== undefined) dst = a;
      } else if (c.k === "dport" && !c.neg && c.ranges.length === 1 && c.ranges[0][0] === c.ranges[0][1]) {
        dport = c.ranges[0][0];
      }
    }
    let byPort = byDst.get(dst);
    if (!byPort) byDst.set(dst, (byPort = new Map()));
    const list = byPort.get(dport);
    if (list) list.push(i);
    else byPort.set(dport, [i]);
  });
  return { byDst };
}

function findEndpoint(list: WalkEndpoint[], ip: string, port: number, from: "comment" | undefined): WalkEndpoint | undefined {
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (e.port === port && e.from === from && e.ip === ip) return e;
  }
  return undefined;
}

/** 0 = no, 1 = yes, (0,1) = that fraction of new connections, undefined = cannot tell. */
function yes(b: boolean, neg: boolean): number {
  return b !== neg ? 1 : 0;
}

function evaluate(c: Cond, pkt: Packet): number | undefined {
  switch (c.k) {
    case "proto":
      return yes(c.protos.includes(pkt.protocol), c.neg);
    case "dst": {
      let hit = false;
      for (const x of c.cidrs) {
        if (pkt.dst === undefined) hit = x.v4?.bits === 0;
        else if (x.v4 && pkt.dstNum !== undefined) {
          const size = 2 ** (32 - x.v4.bits);
          hit = pkt.dstNum - (pkt.dstNum % size) === x.v4.base;
        } else hit = cidrContains(x, pkt.dst);
        if (hit) break;
      }
      return yes(hit, c.neg);
    }
    case "src": {
      // the client is outside the cluster: it is in no source range a rule names, except "anywhere"
      let any = false;
      for (const x of c.cidrs) if (x.v4?.bits === 0) any = true;
      return yes(any, c.neg);
    }
    case "dport": {
      let hit = false;
      for (const r of c.ranges) if (pkt.dport >= r[0] && pkt.dport <= r[1]) hit = true;
      return yes(hit, c.neg);
    }
    case "dstLocal":
      return yes(pkt.dstLocal, c.neg);
    case "srcLocal":
      return yes(false, c.neg);
    case "probability":
      return c.p;
    case "mark":
      return yes(((pkt.mark & c.mask) >>> 0) === c.value >>> 0, c.neg);
    case "inIface":
      return c.name === "lo" ? yes(false, c.neg) : undefined;
    case "never":
      return 0;
    case "unknown":
      return undefined;
  }
}

function applyMark(mark: number, op: "or" | "xor" | "set" | "and", value: number, mask: number): number {
  switch (op) {
    case "or":
      return (mark | value) >>> 0;
    case "xor":
      return (mark ^ value) >>> 0;
    case "and":
      return (mark & value) >>> 0;
    case "set":
      return ((mark & ~mask) ^ value) >>> 0;
  }
}

/** kube-proxy's per-endpoint comment "ns/svc:port -> 10.244.1.3:8080" (absent in large-cluster mode). */
export function endpointFromComment(comment: string | undefined): { ip: string; port: number } | undefined {
  if (comment === undefined) return undefined;
  const arrow = comment.lastIndexOf(" -> ");
  if (arrow < 0) return undefined;
  const hp = parseHostPort(comment.slice(arrow + 4).trim());
  return hp && hp.port !== undefined ? { ip: hp.ip, port: hp.port } : undefined;
}

export function round(x: number): number {
  return Math.round(x * 1e12) / 1e12;
}
