// The format-independent picture of a nat ruleset: chains of rules, each rule a list of
// conditions and one target. Every parser (iptables-save, `iptables -L`, nft) produces this, and
// the tracer only reads this, so the tracing logic exists once.
import type { DumpFormat, RuleRef } from "./types";

export interface Cidr {
  /** IPv4 as an unsigned 32-bit number; undefined for IPv6 (matched by text only) */
  v4?: { base: number; bits: number };
  text: string;
}

/** One condition of a rule. `neg` is iptables' `!` / nft's `!=`. */
export type Cond =
  | { k: "proto"; protos: string[]; neg: boolean }
  | { k: "dst"; cidrs: Cidr[]; neg: boolean }
  | { k: "src"; cidrs: Cidr[]; neg: boolean }
  | { k: "dport"; ranges: [number, number][]; neg: boolean }
  | { k: "dstLocal"; neg: boolean }
  | { k: "srcLocal"; neg: boolean }
  /** matches a fraction of new connections (statistic random, numgen) */
  | { k: "probability"; p: number }
  | { k: "mark"; value: number; mask: number; neg: boolean }
  | { k: "inIface"; name: string; neg: boolean }
  /** e.g. session affinity `-m recent --rcheck`: never true for a new client */
  | { k: "never"; why: string }
  /** a match that cannot be decided from the dump alone */
  | { k: "unknown"; text: string };

export type Target =
  | { k: "jump"; chain: string }
  | { k: "goto"; chain: string }
  | { k: "dnat"; ip: string; port?: number }
  | { k: "return" }
  | { k: "accept" }
  | { k: "drop" }
  | { k: "reject" }
  /** SNAT/MASQUERADE/REDIRECT: nat is done for this hook */
  | { k: "nat-done"; name: string }
  | { k: "mark"; op: "or" | "xor" | "set" | "and"; value: number; mask: number }
  /** no target, or a non-terminating one (LOG, comment-only rules, nft `counter`, `update @set`) */
  | { k: "continue"; name?: string }
  /**
   * the line is cut (a paste that stops mid-rule) or cannot be read: what reaches it has a fate the
   * dump does not show; `chain` is the chain it jumps to when that much is readable
   */
  | { k: "cut"; chain?: string; unreadable?: boolean };

export interface Rule {
  line: number;
  chain: string;
  /** the rule as written in the dump */
  text: string;
  packets?: number;
  bytes?: number;
  comment?: string;
  conds: Cond[];
  target: Target;
  /** nft: the verdict-map element this rule was expanded from (destination, protocol, port) */
  dispatch?: { dst?: string; protocol?: string; port?: number };
}

export interface Chain {
  name: string;
  /** a hook chain (PREROUTING...) whose end applies the policy instead of returning */
  builtin: boolean;
  rules: Rule[];
  /**
   * the dump declares the chain (`:X` / `-N X` / `Chain X (...)` / nft `chain X {`), so its rules
   * are all there; a chain seen only through its `-A` lines (a grep'ed paste) may hold more, and
   * what falls off its end is not known. Absent = false.
   */
  declared?: boolean;
}

/** Where a service's traffic enters the rules: one clusterIP / nodePort / external entry. */
export interface ServiceEntry {
  kind: "clusterIP" | "nodePort" | "external";
  /** groups the entries of one service port: kube-proxy's chain hash, else the name */
  key: string;
  name: string | null;
  protocol: "tcp" | "udp" | "sctp";
  ip?: string;
  /** null: the dump does not show it (an nft service chain reached by no map names only its port's name) */
  port: number | null;
  /** the chain the entry dispatches to (KUBE-SVC-..., KUBE-EXT-..., service-..., external-...) */
  chain: string;
  rule: Rule;
  /**
   * no entry rule leads here in the dump (a fragment of service chains): the trace starts at
   * `chain` itself; the clusterIP was read from the chain's own masquerade rule
   */
  direct?: boolean;
}

export interface ChainGraph {
  format: DumpFormat;
  chains: Map<string, Chain>;
  /** chains a packet arriving from the network enters, in order (PREROUTING, nft prerouting hooks) */
  entry: string[];
  /** node addresses named by the rules (`-d nodeIP -j KUBE-NODEPORTS`, nft @nodeport-ips) */
  nodeIPs: string[];
  services: ServiceEntry[];
  warnings: string[];
}

/** kube-proxy's helper chains, by what kube-proxy means by them (pkg/proxy/iptables/proxier.go, nftables/proxier.go). */
export const MASQ_CHAINS = new Set(["KUBE-MARK-MASQ", "mark-for-masquerade"]);
/** marks for the filter table's KUBE-FIREWALL to drop: ends the path as dropped, whatever later nat rules say */
export const DROP_CHAINS = new Set(["KUBE-MARK-DROP"]);
/** kube-proxy's masquerade mark (--masquerade-bit 14) */
export const MASQ_MARK = 0x4000;

/** Chains reachable from `from` through jumps and gotos (the chains themselves included). */
export function reachableChains(chains: Map<string, Chain>, from: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...from];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const r of chains.get(name)?.rules ?? []) {
      if ((r.target.k === "jump" || r.target.k === "goto") && !seen.has(r.target.chain)) todo.push(r.target.chain);
    }
  }
  return seen;
}

export function ruleRef(rule: Rule): RuleRef {
  const ref: RuleRef = { line: rule.line, chain: rule.chain, text: rule.text };
  if (rule.packets !== undefined) ref.packets = rule.packets;
  if (rule.bytes !== undefined) ref.bytes = rule.bytes;
  return ref;
}

// ---------------------------------------------------------------- addresses

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipv4ToNumber(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

/** "10.0.0.0/8", "10.0.0.1", "10.0.0.1/32", "0.0.0.0/0", "anywhere"; undefined when unreadable. */
export function parseCidr(text: string): Cidr | undefined {
  if (text === "anywhere") text = "0.0.0.0/0";
  if (text === "localhost") text = "127.0.0.1/32";
  if (text === "localhost/8" || text === "loopback/8") text = "127.0.0.0/8";
  if (text === "loopback") text = "127.0.0.1/32";
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v4 = ipv4ToNumber(addr);
  if (v4 !== undefined) {
    let bits = 32;
    if (slash >= 0) {
      const suffix = text.slice(slash + 1);
      if (/^\d{1,2}$/.test(suffix)) bits = Number(suffix);
      else {
        const mask = ipv4ToNumber(suffix); // `-L` may print a dotted mask
        if (mask === undefined) return undefined;
        bits = 32 - Math.log2(2 ** 32 - mask);
        if (!Number.isInteger(bits)) return undefined;
      }
      if (bits > 32) return undefined;
    }
    const size = 2 ** (32 - bits);
    return { v4: { base: v4 - (v4 % size), bits }, text };
  }
  if (/^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(text) && text.includes(":")) return { text };
  return undefined;
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  if (!cidr.v4) return cidr.text === ip || cidr.text === `${ip}/128`;
  const n = ipv4ToNumber(ip);
  if (n === undefined) return false;
  const size = 2 ** (32 - cidr.v4.bits);
  return n - (n % size) === cidr.v4.base;
}

/** The single address a condition pins (x/32), used to index big chains by destination. */
export function singleAddress(cidr: Cidr): string | undefined {
  if (cidr.v4) return cidr.v4.bits === 32 ? numberToIpv4(cidr.v4.base) : undefined;
  return cidr.text.includes("/") && !cidr.text.endsWith("/128") ? undefined : cidr.text.replace(/\/128$/, "");
}

export function numberToIpv4(n: number): string {
  return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** "ip:port", "[v6]:port" or a bare ip. */
export function parseHostPort(text: string): { ip: string; port?: number } | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?/.exec(text);
  if (v6) return { ip: v6[1], port: v6[2] !== undefined ? Number(v6[2]) : undefined };
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+)(?:-\d+)?)?$/.exec(text);
  if (m && ipv4ToNumber(m[1]) !== undefined) return { ip: m[1], port: m[2] !== undefined ? Number(m[2]) : undefined };
  return undefined;
}

export function parsePortRanges(text: string): [number, number][] | undefined {
  const out: [number, number][] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:[:-](\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (lo > 65535 || hi > 65535) return undefined;
    out.push([lo, hi]);
  }
  return out.length > 0 ? out : undefined;
}

export function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text, 16);
  if (/^\d+$/.test(text)) return Number(text);
  return undefined;
}
