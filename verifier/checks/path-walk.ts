// The diagnosis by walking the path (design.md, "the diagnosis"): on a node where a claim fails,
// follow the Service's packets the way the kernel does, through the rules kube-proxy writes, and
// compare every link with the same link on the nodes where the claims hold (or, when none does,
// with what kube-proxy writes for the Service). The first link missing or different is the cause.
//
// The walks read only the rules a packet of the Service can reach: nat PREROUTING for n-ip:n-port
// and s-ip:s-port (KUBE-SERVICES -> KUBE-NODEPORTS -> KUBE-EXT -> KUBE-SVC -> KUBE-SEP -> DNAT),
// nat POSTROUTING for the rewritten packet (the masquerade mark and MASQUERADE that bring the reply
// back through the node) and filter FORWARD for the packet the node forwards to p-ip:p-port. Other
// Services' rules never match these packets, so a dump reduced to the Service's path reads the same.
// Pure: the model in, findings out.
import type { Chain, Cond, Rule } from "../iptables/graph";
import { MASQ_MARK, cidrContains } from "../iptables/graph";
import { readSaveChains } from "../iptables/parse-save";
import { writeFilterRules, writeNatRules, type NatRulesSpec, type Protocol } from "../iptables/kube-proxy-rules";
import type { Evidence } from "../model";
import type { CheckContext, NodeView } from "./context";

export type Table = "nat" | "filter";

/** One packet of the Service, as a node sees it arrive (or leave, for POSTROUTING). */
interface WalkPacket {
  /** what the packet stands for, in the article's terms */
  role: "n-ip:n-port" | "s-ip:s-port" | "reply path (POSTROUTING)" | "forwarded to p-ip:p-port";
  table: Table;
  entry: string;
  proto: string;
  /** undefined: one of the node's own addresses that no rule names */
  dst: string | undefined;
  dstLocal: boolean;
  dport: number;
  mark: number;
}

/** A rule a packet of the Service reaches: its chain, its place there, its meaning as a key. */
export interface PathLink {
  table: Table;
  role: WalkPacket["role"];
  chain: string;
  /** 0-based position in its chain */
  index: number;
  rule: Rule;
  key: string;
}

/** A node's tables as chains, with the key of every rule; undefined when the dump is not iptables-save. */
interface NodeTables {
  name: string;
  source: Record<Table, string>;
  chains: Record<Table, Map<string, Chain> | undefined>;
  /** the node's own address, written as "n-ip" in keys so that `-d <n-ip>` rules compare across nodes */
  ownIp?: string;
}

export interface WalkFinding {
  node: string;
  kind: "missing" | "differs" | "extra";
  link: PathLink;
  /** the rule on the walked node that stands where the reference has `link` (differs) */
  instead?: { rule: Rule; index: number };
  /** where the reference came from: node names, or "kube-proxy" (its rules as written for the Service) */
  reference: string[];
  /** further links that also differ (the first is the cause; these may follow from it) */
  more: number;
  evidence: Evidence[];
  summary: string;
  fix: string;
  /** the one iptables command, run on the node, that puts the link back (missing, differs) or deletes it (extra); `fix` quotes it */
  command: string;
  hop: "node-nat" | "node-forwarding";
}

const MAX_DEPTH = 32;
const MAX_PEERS = 3;

/** The `*table ... COMMIT` section of a dump, other lines blanked so line numbers stay the dump's. */
function section(text: string, table: Table): string | undefined {
  const lines = text.split("\n");
  const hasHeaders = lines.some((l) => /^\*\w+\s*$/.test(l));
  if (!hasHeaders) return table === "nat" && /^(?:\[\d+:\d+\]\s*)?-A /m.test(text) ? text : undefined;
  let inside = false;
  let found = false;
  const out = lines.map((l) => {
    if (/^\*\w+\s*$/.test(l)) {
      inside = l.trim() === `*${table}`;
      if (inside) found = true;
      // the reader takes one table's lines; the filter table's syntax is the same
      return inside ? "*nat" : "";
    }
    if (l.trim() === "COMMIT") {
      const was = inside;
      inside = false;
      return was ? "COMMIT" : "";
    }
    return inside ? l : "";
  });
  return found ? out.join("\n") : undefined;
}

function readTables(name: string, natText: string | undefined, filterText: string | undefined, ownIp: string | undefined, source: Record<Table, string>): NodeTables {
  const nat = natText !== undefined ? section(natText, "nat") : undefined;
  const filter = filterText !== undefined ? section(filterText, "filter") : natText !== undefined ? section(natText, "filter") : undefined;
  return {
    name,
    source,
    ownIp,
    chains: {
      nat: nat !== undefined ? readSaveChains(nat).chains : undefined,
      filter: filter !== undefined ? readSaveChains(filter).chains : undefined,
    },
  };
}

/** Each node's tables are read once per model, however many nodes compare with it. */
const tablesCache = new WeakMap<object, { text: string; filter?: string; tables: NodeTables | undefined }>();

/** What a node's dumps say, as chains; undefined when it has no iptables-save dump of its nat table. */
export function nodeTables(v: NodeView): NodeTables | undefined {
  const nat = v.node?.nat;
  if (!nat || !v.trace || v.trace.format !== "iptables-save") return undefined;
  const filter = v.node!.forwarding?.filter?.text;
  const hit = tablesCache.get(v.node!);
  if (hit && hit.text === nat.text && hit.filter === filter) return hit.tables;
  const tables = readNodeTables(v);
  tablesCache.set(v.node!, { text: nat.text, filter, tables });
  return tables;
}

function readNodeTables(v: NodeView): NodeTables | undefined {
  const nat = v.node!.nat!;
  const filter = v.node?.forwarding?.filter;
  const t = readTables(v.name, nat.text, filter?.text, v.internalIp, {
    nat: v.dumpSource,
    filter: filter ? `node ${v.name}: ${filter.command} (filter table)` : v.dumpSource,
  });
  return t.chains.nat ? t : undefined;
}

// ---------------------------------------------------------------- matching a packet

type Match = "yes" | "partly" | "maybe" | "no";

function condMatch(c: Cond, p: WalkPacket): Match {
  const is = (b: boolean, neg: boolean): Match => (b !== neg ? "yes" : "no");
  switch (c.k) {
    case "proto":
      return is(c.protos.includes(p.proto), c.neg);
    case "dst":
      if (p.dst === undefined) return c.neg ? "maybe" : "maybe";
      return is(c.cidrs.some((x) => cidrContains(x, p.dst!)), c.neg);
    case "src":
      // the LB's (or a client's) address: outside every pod range and node address a rule names
      return is(false, c.neg);
    case "dport":
      return is(c.ranges.some(([a, b]) => p.dport >= a && p.dport <= b), c.neg);
    case "dstLocal":
      return is(p.dstLocal, c.neg);
    case "srcLocal":
      return is(false, c.neg);
    case "probability":
      return c.p >= 1 ? "yes" : c.p <= 0 ? "no" : "partly";
    case "mark":
      return is(((p.mark & c.mask) >>> 0) === c.value, c.neg);
    case "never":
      return "no";
    case "inIface":
    case "unknown":
      return "maybe";
  }
}

function ruleMatch(r: Rule, p: WalkPacket): Match {
  let out: Match = "yes";
  for (const c of r.conds) {
    const m = condMatch(c, p);
    if (m === "no") return "no";
    if (m === "maybe") out = "maybe";
    else if (m === "partly" && out === "yes") out = "partly";
  }
  return out;
}

/**
 * The rules `p` reaches from its entry chain, in the order the kernel meets them (each once).
 * A rule that matches only a share (a probability) or may match (an interface) is on the path and
 * the rest goes on; a rule that surely matches and ends the packet's way ends the chain.
 */
function walkPacket(chains: Map<string, Chain>, p: WalkPacket, ownIp: string | undefined): { links: PathLink[]; mark: number } {
  const links: PathLink[] = [];
  const seen = new Set<string>();
  const ends = new Map<string, boolean>();
  const pkt = { ...p };
  const visit = (name: string, depth: number): boolean => {
    const chain = chains.get(name);
    if (!chain || depth > MAX_DEPTH) return false;
    if (ends.has(name)) return ends.get(name)!;
    ends.set(name, false); // a loop ends nothing
    let ended = false;
    for (let i = 0; i < chain.rules.length && !ended; i++) {
      const r = chain.rules[i];
      const m = ruleMatch(r, pkt);
      if (m === "no") continue;
      const id = `${name}#${i}`;
      if (!seen.has(id)) {
        seen.add(id);
        links.push({ table: p.table, role: p.role, chain: name, index: i, rule: r, key: ruleKey(r, ownIp) });
      }
      const sure = m === "yes";
      const t = r.target;
      switch (t.k) {
        case "jump":
          if (visit(t.chain, depth + 1) && sure) ended = true;
          break;
        case "goto":
          visit(t.chain, depth + 1);
          if (sure) ended = true;
          break;
        case "mark":
          if (sure) {
            const v = t.op === "or" ? pkt.mark | t.value : t.op === "xor" ? pkt.mark ^ t.value : t.op === "and" ? pkt.mark & t.value : (pkt.mark & ~t.mask) | t.value;
            pkt.mark = v >>> 0;
          }
          break;
        case "continue":
        case "cut":
          break;
        case "return":
          if (sure) {
            ends.set(name, false);
            return false;
          }
          break;
        default:
          // dnat, accept, drop, reject, masquerade: the packet's way in this table ends here
          if (sure) ended = true;
      }
    }
    ends.set(name, ended);
    return ended;
  };
  visit(p.entry, 0);
  return { links, mark: pkt.mark };
}

// ---------------------------------------------------------------- rule keys

function condKey(c: Cond, ownIp: string | undefined): string {
  const n = (neg: boolean) => (neg ? "!" : "");
  const addr = (text: string) => {
    const t = text.replace(/\/32$/, "");
    return ownIp !== undefined && t === ownIp ? "n-ip" : t;
  };
  switch (c.k) {
    case "proto":
      return `${n(c.neg)}p=${c.protos.join(",")}`;
    case "dst":
    case "src":
      return `${n(c.neg)}${c.k}=${c.cidrs.map((x) => addr(x.text)).join(",")}`;
    case "dport":
      return `${n(c.neg)}dport=${c.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}:${b}`)).join(",")}`;
    case "dstLocal":
    case "srcLocal":
      return `${n(c.neg)}${c.k}`;
    case "probability":
      return `prob=${c.p.toFixed(4)}`;
    case "mark":
      return `${n(c.neg)}mark=${c.value}/${c.mask}`;
    case "inIface":
      return `${n(c.neg)}in=${c.name}`;
    case "never":
      return `never=${c.why}`;
    case "unknown":
      return `?${c.text}`;
  }
}

/**
 * MARK as iptables-save prints it: --or-mark V is --set-xmark V/V, --xor-mark V is --set-xmark V/0
 * (iptables-extensions(8), MARK target), so a rule written either way compares equal.
 */
function markKey(op: "or" | "xor" | "set" | "and", value: number, mask: number): string {
  if (op === "or") return `mark:set:${value}/${value}`;
  if (op === "xor") return `mark:set:${value}/0`;
  if (op === "and") return `mark:set:0/${~value >>> 0}`;
  return `mark:set:${value}/${mask}`;
}

/** A rule's meaning, whatever its option order, quoting, comment or probability digits. */
export function ruleKey(r: Rule, ownIp?: string): string {
  const t = r.target;
  const target =
    t.k === "jump" || t.k === "goto"
      ? `${t.k}:${t.chain}`
      : t.k === "dnat"
        ? `dnat:${t.ip}:${t.port ?? ""}`
        : t.k === "mark"
          ? markKey(t.op, t.value, t.mask)
          : t.k === "nat-done" || t.k === "continue"
            ? `${t.k}:${t.name ?? ""}`
            : t.k;
  return `${r.chain}|${r.conds.map((c) => condKey(c, ownIp)).sort().join("&")}|${target}`;
}

// ---------------------------------------------------------------- the Service's packets

interface ServiceFacts {
  proto: string;
  clusterIP?: string;
  port?: number;
  nodePort?: number;
  /** p-ip:p-port of the endpoints, for the packet after DNAT */
  endpoints: { ip: string; port: number }[];
}

function serviceFacts(ctx: CheckContext): ServiceFacts | undefined {
  const proto = (ctx.port?.protocol ?? "TCP").toLowerCase();
  const endpoints = (ctx.model.kubernetes?.endpoints ?? []).filter((e) => e.ready).map((e) => ({ ip: e.ip, port: e.port }));
  if (ctx.clusterIP === undefined && ctx.nodePort === undefined) return undefined;
  return { proto, clusterIP: ctx.clusterIP, port: ctx.port?.port, nodePort: ctx.nodePort, endpoints };
}

/** Every link the Service's packets reach on this node, in path order: nat in, nat out, filter. */
export function pathLinks(t: NodeTables, s: ServiceFacts): PathLink[] {
  const links: PathLink[] = [];
  const nat = t.chains.nat;
  let mark = 0;
  if (nat) {
    if (s.nodePort !== undefined) {
      const w = walkPacket(nat, { role: "n-ip:n-port", table: "nat", entry: "PREROUTING", proto: s.proto, dst: t.ownIp, dstLocal: true, dport: s.nodePort, mark: 0 }, t.ownIp);
      links.push(...w.links);
      mark = w.mark;
    }
    if (s.clusterIP !== undefined && s.port !== undefined) {
      const w = walkPacket(nat, { role: "s-ip:s-port", table: "nat", entry: "PREROUTING", proto: s.proto, dst: s.clusterIP, dstLocal: false, dport: s.port, mark: 0 }, t.ownIp);
      if (s.nodePort === undefined) mark = w.mark;
      links.push(...w.links);
    }
  }
  // the rewritten packet leaves toward a pod: POSTROUTING (masquerade) and, forwarded, filter FORWARD
  const ep = s.endpoints[0];
  if (ep) {
    if (nat) links.push(...walkPacket(nat, { role: "reply path (POSTROUTING)", table: "nat", entry: "POSTROUTING", proto: s.proto, dst: ep.ip, dstLocal: false, dport: ep.port, mark }, t.ownIp).links);
    const filter = t.chains.filter;
    if (filter) links.push(...walkPacket(filter, { role: "forwarded to p-ip:p-port", table: "filter", entry: "FORWARD", proto: s.proto, dst: ep.ip, dstLocal: false, dport: ep.port, mark }, t.ownIp).links);
  }
  // one link per rule, in the order first met
  const seen = new Set<string>();
  return links.filter((l) => {
    const id = `${l.table}|${l.chain}#${l.index}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function chainKeys(t: NodeTables, table: Table, chain: string): string[] | undefined {
  const c = t.chains[table]?.get(chain);
  return c ? c.rules.map((r) => ruleKey(r, t.ownIp)) : undefined;
}

/** kube-proxy's own rules for the Service on this node (no node holds the claims to compare with). */
function writtenTables(ctx: CheckContext, v: NodeView): NodeTables | undefined {
  const svc = ctx.service;
  const port = ctx.port;
  if (!svc || !port || !ctx.clusterIP) return undefined;
  const protocol = port.protocol.toLowerCase() as Protocol;
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") return undefined;
  const endpoints = (ctx.model.kubernetes?.endpoints ?? []).filter((e) => e.ready).map((e) => ({ ip: e.ip, port: e.port, nodeName: e.nodeName }));
  const spec: NatRulesSpec = {
    nodeName: v.name,
    clusterCIDR: clusterCidrOf(ctx),
    services: [{ namespace: svc.namespace, name: svc.name, portName: port.name, protocol, clusterIP: ctx.clusterIP, port: port.port, nodePort: ctx.nodePort, externalTrafficPolicy: svc.externalTrafficPolicy === "Local" ? "Local" : "Cluster", endpoints }],
  };
  let nat: string;
  let filter: string;
  try {
    nat = writeNatRules(spec);
    filter = writeFilterRules(spec);
  } catch {
    return undefined;
  }
  return readTables("kube-proxy", nat, filter, v.internalIp, { nat: "kube-proxy's rules for the Service (kube-proxy-rules.ts)", filter: "kube-proxy's filter rules (kube-proxy-rules.ts)" });
}

/** The pod range kube-proxy's `! -s <cluster CIDR> -d s-ip` rule names on any node, if one does. */
function clusterCidrOf(ctx: CheckContext): string | undefined {
  for (const v of ctx.nodes) {
    const text = v.node?.nat?.text ?? "";
    const m = new RegExp(`! -s (\\S+) -d ${(ctx.clusterIP ?? "-").replace(/\./g, "\\.")}(?:/32)? `).exec(text) ?? new RegExp(`-d ${(ctx.clusterIP ?? "-").replace(/\./g, "\\.")}(?:/32)? .*! -s (\\S+) `).exec(text);
    if (m) return m[1];
  }
  return undefined;
}

// ---------------------------------------------------------------- comparing

/**
 * Walk node `v` and compare it, link by link, with `peers` (nodes where the claims hold); with no
 * peer and `written`, with what kube-proxy writes for the Service (the links it lacks only). Undefined when the paths agree, or when the
 * node's dump cannot be walked (not iptables-save: an nft dump, none at all).
 */
export function walkNode(ctx: CheckContext, v: NodeView, peers: NodeView[], opts: { written?: boolean } = {}): WalkFinding | undefined {
  const facts = serviceFacts(ctx);
  const mine = nodeTables(v);
  if (!facts || !mine) return undefined;
  // three peers are norm enough; a big cluster's hundreds would only cost time
  const refs = peers.map(nodeTables).filter((t): t is NodeTables => t !== undefined).slice(0, MAX_PEERS);
  // kube-proxy's rules as written are the norm only for presence: a real node also holds other
  // agents' rules (GKE's IP-MASQ...) and orders its own by its era, so no "extra" or "differs" then
  let writtenOnly = false;
  if (refs.length === 0 && opts.written === true) {
    const written = writtenTables(ctx, v);
    if (written) refs.push(written);
    writtenOnly = true;
  }
  if (refs.length === 0) return undefined;
  const [first, ...others] = refs;
  // links every reference has: one peer's own rules (its address, its pods) are not the norm
  const refLinks = pathLinks(first, facts).filter((l) => others.every((o) => chainKeys(o, l.table, l.chain)?.includes(l.key) ?? false));
  const found: { kind: WalkFinding["kind"]; link: PathLink; instead?: { rule: Rule; index: number } }[] = [];
  for (const l of refLinks) {
    if (l.table === "filter" && !mine.chains.filter) continue; // the node's filter table was not read
    // kube-proxy writes the split from the endpoints it last saw: with no peer, a stale or missing
    // endpoint is the endpoints' and pods' story (pod-not-ready...), not a link's
    if (writtenOnly && /^KUBE-(?:SVC|SVL|SEP)-/.test(l.chain)) continue;
    const keys = chainKeys(mine, l.table, l.chain);
    if (keys?.includes(l.key)) continue;
    const refKeys = chainKeys(first, l.table, l.chain) ?? [];
    const there = mine.chains[l.table]?.get(l.chain)?.rules[l.index];
    const thereKey = there ? ruleKey(there, mine.ownIp) : undefined;
    if (!writtenOnly && there && thereKey !== undefined && !refKeys.includes(thereKey) && sameJob(there, l.rule)) found.push({ kind: "differs", link: l, instead: { rule: there, index: l.index } });
    else found.push({ kind: "missing", link: l });
  }
  if (found.length === 0 && !writtenOnly) {
    // nothing of the reference is missing: a rule of this node's own on the path (an inserted DROP, RETURN...)
    for (const l of pathLinks(mine, facts)) {
      if (l.table === "filter" && !first.chains.filter) continue;
      const refKeys = chainKeys(first, l.table, l.chain);
      if (refKeys?.includes(l.key)) continue;
      found.push({ kind: "extra", link: l });
    }
  }
  if (found.length === 0) return undefined;
  const f = found[0];
  return describe(ctx, v, mine, first, f.kind, f.link, f.instead, found.length - 1);
}

/** Two rules at the same place doing the same kind of thing (the same target): one was changed. */
function sameJob(a: Rule, b: Rule): boolean {
  const ta = a.target;
  const tb = b.target;
  if (ta.k !== tb.k) return false;
  if ((ta.k === "jump" || ta.k === "goto") && (tb.k === "jump" || tb.k === "goto")) return ta.chain === tb.chain;
  return true;
}

// ---------------------------------------------------------------- saying it

const isService = (c: string) => /^KUBE-(?:SVC|SVL)-/.test(c);

/** What losing (or gaining) this link does to a request, from the rule's own target and chain. */
function effect(ctx: CheckContext, l: PathLink, kind: WalkFinding["kind"], node: string): string {
  const r = l.rule;
  const t = r.target;
  const nport = `n-ip:n-port ${ctx.nodes.find((x) => x.name === node)?.internalIp ?? "?"}:${ctx.nodePort ?? "?"}`;
  const sip = `s-ip:s-port ${ctx.clusterIP ?? "?"}:${ctx.port?.port ?? "?"}`;
  const what = l.role === "n-ip:n-port" ? nport : l.role === "s-ip:s-port" ? sip : l.role;
  if (kind === "extra") {
    if (t.k === "drop" || t.k === "reject") return `${what}: this rule ${t.k === "drop" ? "drops" : "rejects"} the packets kube-proxy's rules would pass on`;
    if (t.k === "return") return `${what}: this rule sends the packets back before kube-proxy's rules rewrite them`;
    return `${what}: this rule is on the path on ${node} and on no node where the claims hold`;
  }
  const lost = kind === "differs" ? "does not do what it does elsewhere" : "is missing";
  if (l.table === "filter") {
    if (t.k === "accept") return `${what}: the rule that accepts the rewritten packet ${lost}; the packet falls to the FORWARD policy (harmless while it is ACCEPT, a timeout where it is DROP)`;
    return `${what}: the filter table's link ${lost}: the forwarded packet meets ${t.k === "jump" || t.k === "goto" ? `none of ${t.chain}'s rules` : "the rules after it"}`;
  }
  if (t.k === "jump" || t.k === "goto") {
    if (t.chain === "KUBE-MARK-MASQ" || t.chain === "mark-for-masquerade")
      return `${what}: the connection is not marked for masquerading (0x${MASQ_MARK.toString(16)}), so it leaves ${node} with the client's address: a pod on another node answers the client directly, not through ${node}, and the request fails (a pod on ${node} itself still answers)`;
    if (t.chain === "KUBE-POSTROUTING") return `the rewritten packet skips kube-proxy's masquerading: marked connections keep the client's address and the pods' replies do not come back through ${node}`;
    if (t.chain === "KUBE-SERVICES") return `no packet arriving at ${node} enters kube-proxy's chains: ${nport} and ${sip} are not rewritten; the connection reaches ${node} itself, where nothing listens (refused)`;
    if (t.chain === "KUBE-NODEPORTS") return `${nport} never reaches KUBE-NODEPORTS: it is not rewritten and reaches ${node} itself, where nothing listens (refused)`;
    if (t.chain.startsWith("KUBE-SEP-")) return `${what}: the share of new connections this rule sends to ${t.chain} ${kind === "missing" ? "falls to the next rule instead (the split changes" : "changes (the split changes"}${kind === "missing" && /--probability|-m statistic/.test(r.text) ? "" : "; the last endpoint's rule missing leaves that share un-rewritten, refused on the node"})`;
    if (isService(t.chain) || t.chain.startsWith("KUBE-EXT-") || t.chain.startsWith("KUBE-")) return `${what} no longer reaches ${t.chain}: it is not rewritten to any pod and reaches ${node} itself, where nothing listens (refused)`;
    return `${what}: the jump to ${t.chain} ${lost}`;
  }
  if (t.k === "dnat") return `${what}: connections sent to ${r.chain} are not rewritten to p-ip:p-port ${t.ip}:${t.port ?? "?"}; they reach ${node} itself and are refused`;
  if (t.k === "mark") return `${what}: the masquerade mark ${kind === "missing" ? "is not set" : "is set differently"}, so ${node} does not masquerade the connection: a pod on another node answers the client directly and the request fails`;
  if (t.k === "nat-done") return `the rewritten packet is not masqueraded: a pod on another node answers the client directly, not through ${node}, and the request fails`;
  return `${what}: this rule ${lost}`;
}

/** `iptables -t TABLE -I CHAIN POS <rule>`: the line put back where the reference holds it. */
function restoreCommand(l: PathLink): string {
  const body = l.rule.text.replace(/^-A \S+\s*/, "");
  return `iptables -t ${l.table} -I ${l.chain} ${l.index + 1} ${body}`;
}

function describe(ctx: CheckContext, v: NodeView, mine: NodeTables, ref: NodeTables, kind: WalkFinding["kind"], l: PathLink, instead: { rule: Rule; index: number } | undefined, more: number): WalkFinding {
  const refName = ref.name === "kube-proxy" ? "kube-proxy" : ref.name;
  const quoted = `line ${l.rule.line}: ${l.rule.text}`;
  const hop = l.table === "filter" ? "node-forwarding" : "node-nat";
  const evidence: Evidence[] = [];
  const moreText = more > 0 ? ` (${more} more link${more === 1 ? "" : "s"} after it differ${more === 1 ? "s" : ""}; fix this one first)` : "";
  if (kind === "extra") {
    evidence.push({ source: mine.source[l.table], detail: `${quoted} (on the ${l.role} path; no node where the claims hold has it)`, node: v.name, line: l.rule.line, rule: l.rule.text });
  } else {
    evidence.push({
      source: mine.source[l.table],
      detail: kind === "differs" && instead ? `${l.chain} rule ${instead.index + 1} is line ${instead.rule.line}: ${instead.rule.text}` : `${l.chain} has no rule like ${refName}'s rule ${l.index + 1} of ${l.chain} (on the ${l.role} path)`,
      node: v.name,
      ...(kind === "differs" && instead ? { line: instead.rule.line, rule: instead.rule.text } : {}),
    });
    evidence.push({ source: ref.source[l.table], detail: `${ref.name === "kube-proxy" ? "kube-proxy writes" : `${refName} has`}: ${quoted}`, ...(ref.name === "kube-proxy" ? {} : { node: ref.name, line: l.rule.line }), rule: l.rule.text });
  }
  const what = effect(ctx, l, kind, v.name);
  const summary =
    kind === "extra"
      ? `${v.name}: a rule in ${l.table} ${l.chain} that no node where the claims hold has is on the Service's path: ${what}${moreText}`
      : `${v.name}: the first link of the Service's path that ${kind === "missing" ? "is missing" : "differs"} is ${l.table} ${l.chain} rule ${l.index + 1} (${refName === "kube-proxy" ? "as kube-proxy writes it" : `as ${refName} has it`}: ${l.rule.text}): ${what}${moreText}`;
  const command = kind === "extra" ? `iptables -t ${l.table} -D ${l.rule.text.replace(/^-A /, "")}` : restoreCommand(l);
  const fix =
    kind === "extra"
      ? `on ${v.name}: delete it (${command}) and find what added it`
      : `on ${v.name}: restart kube-proxy, which rewrites every rule of the Service (kubectl -n kube-system delete pod -l component=kube-proxy --field-selector spec.nodeName=${v.name}), or put the line back by hand: ${command}; then find what ${kind === "missing" ? "deleted" : "changed"} it`;
  return { node: v.name, kind, link: l, instead, reference: [ref.name], more, evidence, summary, fix, command, hop };
}
