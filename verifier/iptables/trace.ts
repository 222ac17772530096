// Offline trace of a saved ruleset: detect the format, read it into a chain graph, then trace
// for every service where a new connection to clusterIP:port and to nodeIP:nodePort goes.
import type { ChainGraph, Rule, ServiceEntry } from "./graph";
import { ruleRef } from "./graph";
import { parseIptablesList } from "./parse-list";
import { parseNft } from "./parse-nft";
import { parseIptablesSave } from "./parse-save";
import { cleanPaste } from "./paste";
import type { DumpFormat, RuleRef, TraceResult, TracedEndpoint, TracedService, UnresolvedShare } from "./types";
import { type Packet, type WalkResult, Walker } from "./walk";

export interface TraceOptions {
  /** the node address NodePort traffic is sent to; default: the first one the rules name, else "a local address" */
  nodeIP?: string;
  /** false: endpoints carry no `evidence` (the rules walked); the contract JSON never shows it. Default true. */
  evidence?: boolean;
  /**
   * true: the text is a whole `iptables-save` read from a node, so a PREROUTING it declares without
   * the jump to KUBE-SERVICES really has none (nothing is rewritten). Default false: a paste (or
   * kube-proxy's own restore input, which leaves the hooks out) is traced from KUBE-SERVICES.
   */
  wholeDump?: boolean;
}

const NFT_TABLE = /^\s*table\s+(?:ip|ip6|inet|arp|bridge|netdev)\s+\S+\s*\{/m;
const NFT_SCRIPT = /^\s*add\s+(?:table|chain|rule|element)\s+(?:ip|ip6|inet)\s+\S+/m;
/** a fragment of `nft list` output pasted without its `table ... {` line */
const NFT_CHAIN = /^\s*(?:chain|set|map)\s+\S+\s*\{\s*(?:#.*)?$/m;
const LIST_CHAIN = /^Chain \S+ \((?:policy \S+|\d+ references?)/m;
/** a listing pasted without its "Chain X (...)" line still has its column header */
const LIST_HEADER = /^\s*(?:num\s+)?(?:pkts\s+bytes\s+)?target\s+prot\s+opt\s+(?:in\s+out\s+)?source\s+destination/m;
const SAVE_TABLE = /^\*(?:nat|filter|mangle|raw|security)\s*$/m;
const SAVE_RULE = /^(?:\[\d+:\d+\]\s*)?-A \S+/m;

export function detectFormat(text: string): DumpFormat | undefined {
  // a window is enough to recognise a format and keeps detection cheap on 100k-rule dumps
  const head = text.length > 65536 ? text.slice(0, 65536) : text;
  if (NFT_TABLE.test(head) || NFT_SCRIPT.test(head) || NFT_CHAIN.test(head)) return "nft";
  if (LIST_CHAIN.test(head) || LIST_HEADER.test(head)) return "iptables-list";
  if (SAVE_TABLE.test(head) || SAVE_RULE.test(head)) return "iptables-save";
  return undefined;
}

export function parseDump(text: string, format: DumpFormat): ChainGraph {
  switch (format) {
    case "iptables-save":
      return parseIptablesSave(text);
    case "iptables-list":
      return parseIptablesList(text);
    case "nft":
      return parseNft(text);
  }
}

/**
 * A paste read into the dump it quotes (see paste.ts), with its format; `format` undefined = not a
 * dump. `warnings` name every line skipped or changed.
 */
export function prepareDump(raw: string): { text: string; format: DumpFormat | undefined; warnings: string[] } {
  const cleaned = cleanPaste(raw);
  return { text: cleaned.text, format: detectFormat(cleaned.text), warnings: cleaned.warnings };
}

/** Never throws: an unreadable dump gives no services and says why in `warnings`. */
export function traceDump(raw: string, options: TraceOptions = {}): TraceResult {
  return tracePrepared(prepareDump(raw), options);
}

/** traceDump on the result of prepareDump (a caller that checked the format first does not prepare twice). */
export function tracePrepared(prepared: ReturnType<typeof prepareDump>, options: TraceOptions = {}): TraceResult {
  const services: TracedService[] = [];
  const { format, warnings } = streamPrepared(prepared, options, (s) => services.push(s));
  return { format, services, warnings };
}

/**
 * tracePrepared, handing each traced service to `onService` as soon as it is traced (in the order of
 * TraceResult.services) instead of keeping them: a 10k-Service dump's answer is written while it is
 * traced. Returns the format and the warnings, which are complete only at the end. Never throws: a
 * dump that cannot be traced ends with a warning saying why (services already handed on stay).
 */
export function streamPrepared(prepared: ReturnType<typeof prepareDump>, options: TraceOptions, onService: (s: TracedService) => void): { format: DumpFormat; warnings: string[] } {
  const { text, format, warnings: pasteWarnings } = prepared;
  if (format === undefined) {
    return {
      format: "iptables-save",
      warnings: [
        text.trim() === ""
          ? "line 1: the dump is empty; save one with `iptables-save -t nat`, `iptables -t nat -nvL` or `nft list ruleset`"
          : "line 1: not an iptables-save, `iptables -L` or `nft list` dump (no \"*nat\", \"-A CHAIN\", \"Chain X (...)\" or \"table ip ...\" line)",
      ],
    };
  }
  try {
    let warnings = traceGraphTo(parseDump(text, format), options, onService);
    if (pasteWarnings.length > 0 || warnings.length > 1) warnings = byLine([...pasteWarnings, ...warnings]);
    return { format, warnings };
  } catch (err) {
    return { format, warnings: [`line 1: the dump could not be traced: ${(err as Error).message}`] };
  }
}

/** Warnings in the order of the lines they name (stable: one line's warnings keep their order). */
function byLine(warnings: string[]): string[] {
  const line = (w: string) => Number(/^line (\d+):/.exec(w)?.[1] ?? 0);
  return warnings.map((w, i) => ({ w, i, n: line(w) })).sort((a, b) => a.n - b.n || a.i - b.i).map((x) => x.w);
}

interface ServiceGroup {
  name: string | null;
  protocol: "tcp" | "udp" | "sctp";
  clusterIP?: ServiceEntry;
  nodePort?: ServiceEntry;
  firstIndex: number;
}

export function traceGraph(graph: ChainGraph, options: TraceOptions = {}): TraceResult {
  const services: TracedService[] = [];
  const warnings = traceGraphTo(graph, options, (s) => services.push(s));
  return { format: graph.format, services, warnings };
}

/** traceGraph, handing each service on as it is traced; returns the warnings. */
function traceGraphTo(graph: ChainGraph, options: TraceOptions, onService: (s: TracedService) => void): string[] {
  const warnings = [...graph.warnings];
  if (options.wholeDump && graph.entry[0] === "KUBE-SERVICES" && graph.chains.get("PREROUTING")?.declared) {
    graph = { ...graph, entry: ["PREROUTING"] };
    warnings.push("line 1: PREROUTING has no rule: no packet arriving at the node enters KUBE-SERVICES");
  }
  const withEvidence = options.evidence !== false;
  const walker = new Walker(graph, (m) => warnings.push(m), withEvidence);
  const groups = groupServices(graph.services);
  const nodeIP = options.nodeIP ?? graph.nodeIPs[0];
  const refs = new Map<Rule, RuleRef>();
  for (const g of groups) {
    const chains = new Set<string>();
    let endpoints: TracedEndpoint[] = [];
    let unresolved: UnresolvedShare[] = [];
    if (g.clusterIP) {
      const from = g.clusterIP.direct ? [g.clusterIP.chain] : graph.entry;
      const r = walker.walk(from, packet(g.protocol, g.clusterIP.ip, false, g.clusterIP.port ?? 0));
      endpoints = toEndpoints(r, chains, refs, withEvidence);
      unresolved = r.unresolved;
    }
    let nodePortEndpoints: TracedEndpoint[] | null = null;
    let nodePortUnresolved: UnresolvedShare[] | null = null;
    if (g.nodePort) {
      const r = walker.walk(graph.entry, packet(g.protocol, nodeIP, true, g.nodePort.port ?? 0));
      nodePortEndpoints = toEndpoints(r, chains, refs, withEvidence);
      nodePortUnresolved = r.unresolved;
    }
    onService({
      service: g.name,
      protocol: g.protocol,
      clusterIP: g.clusterIP?.ip ?? null,
      port: g.clusterIP?.port ?? null,
      nodePort: g.nodePort?.port ?? null,
      endpoints,
      unresolved,
      nodePortEndpoints,
      nodePortUnresolved,
      chains: [...chains].sort(),
    });
  }
  return warnings;
}

function packet(protocol: string, dst: string | undefined, dstLocal: boolean, dport: number): Packet {
  return { protocol, dst, dstLocal, dport, mark: 0 };
}

/** Service chains only (not the shared KUBE-SERVICES / KUBE-NODEPORTS / mark / endpoint chains). */
const SERVICE_CHAIN = /^(?:KUBE-(?:SVC|SVL|EXT|FW|XLB)-|service-|external-|firewall-)/;

function toEndpoints(r: WalkResult, chains: Set<string>, refs: Map<Rule, RuleRef>, withEvidence: boolean): TracedEndpoint[] {
  for (const c of r.chains) if (SERVICE_CHAIN.test(c)) chains.add(c);
  // one RuleRef per rule, shared by every path through it
  const refOf = (rule: Rule) => {
    let ref = refs.get(rule);
    if (!ref) refs.set(rule, (ref = ruleRef(rule)));
    return ref;
  };
  return r.endpoints.map((e) => {
    const out: TracedEndpoint = { ip: e.ip, port: e.port, share: e.share, chain: e.chain };
    if (withEvidence) out.evidence = e.path.map(refOf);
    if (e.from) out.from = e.from;
    return out;
  });
}

function groupServices(entries: ServiceEntry[]): ServiceGroup[] {
  // entries of one service port share kube-proxy's hash key; the name may sit on only some of them
  const nameByKey = new Map<string, string>();
  for (const e of entries) if (e.name !== null && !nameByKey.has(e.key)) nameByKey.set(e.key, e.name);
  const groups = new Map<string, ServiceGroup>();
  entries.forEach((e, i) => {
    const name = e.name ?? nameByKey.get(e.key) ?? null;
    const id = `${name ?? "#" + e.key}|${e.protocol}`;
    let g = groups.get(id);
    if (!g) {
      g = { name, protocol: e.protocol, firstIndex: i };
      groups.set(id, g);
    }
    if (e.kind === "clusterIP") g.clusterIP ??= e;
    else if (e.kind === "nodePort") g.nodePort ??= e;
  });
  return [...groups.values()]
    .filter((g) => g.clusterIP || g.nodePort)
    .sort((a, b) => compareNullableName(a.name, b.name) || a.protocol.localeCompare(b.protocol) || a.firstIndex - b.firstIndex);
}

function compareNullableName(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

type ContractEndpoint = { ip: string; port: number; share: number; from?: "comment" };

/** One service of the offline trace contract: no evidence, no chains, fixed key order. */
function contractService(s: TracedService): {
  service: string | null;
  protocol: "tcp" | "udp" | "sctp";
  clusterIP: string | null;
  port: number | null;
  nodePort: number | null;
  endpoints: ContractEndpoint[];
  unresolved: UnresolvedShare[];
  nodePortEndpoints: ContractEndpoint[] | null;
  nodePortUnresolved: UnresolvedShare[] | null;
} {
  const strip = (e: TracedEndpoint): ContractEndpoint => (e.from ? { ip: e.ip, port: e.port, share: e.share, from: e.from } : { ip: e.ip, port: e.port, share: e.share });
  const unres = (u: UnresolvedShare): UnresolvedShare => ({ chain: u.chain, share: u.share, reason: u.reason });
  return {
    service: s.service,
    protocol: s.protocol,
    clusterIP: s.clusterIP,
    port: s.port,
    nodePort: s.nodePort,
    endpoints: s.endpoints.map(strip),
    unresolved: s.unresolved.map(unres),
    nodePortEndpoints: s.nodePortEndpoints === null ? null : s.nodePortEndpoints.map(strip),
    nodePortUnresolved: s.nodePortUnresolved === null ? null : s.nodePortUnresolved.map(unres),
  };
}

/** The offline trace contract of design.md: no evidence, no chains, fixed key order. */
export function toContractJson(result: TraceResult): {
  format: DumpFormat;
  services: ReturnType<typeof contractService>[];
  warnings: string[];
} {
  return { format: result.format, services: result.services.map(contractService), warnings: [...result.warnings] };
}

/**
 * The contract JSON written piece by piece, byte for byte what `JSON.stringify(toContractJson(r),
 * null, 2) + "\n"` prints, without holding the whole text (7.6 MB for 10k Services) or the
 * contract objects of every service at once. `write` receives chunks of about 64 KiB, in order.
 * Call `service` for each service in order, then `end` once with the warnings.
 */
export class ContractJsonWriter {
  private buffer = "";
  private count = 0;

  constructor(
    private readonly format: DumpFormat,
    private readonly write: (chunk: string) => void,
  ) {}

  service(s: TracedService): void {
    this.buffer += (this.count === 0 ? this.head() + "[\n" : ",\n") + serviceText(s);
    this.count++;
    if (this.buffer.length >= 65536) this.flush();
  }

  end(warnings: string[]): void {
    const list = warnings.length === 0 ? "[]" : "[\n" + warnings.map((w) => "    " + JSON.stringify(w)).join(",\n") + "\n  ]";
    this.buffer += (this.count === 0 ? this.head() + "[]" : "\n  ]") + ',\n  "warnings": ' + list + "\n}\n";
    this.flush();
  }

  private head(): string {
    return `{\n  "format": ${JSON.stringify(this.format)},\n  "services": `;
  }

  private flush(): void {
    if (this.buffer !== "") this.write(this.buffer);
    this.buffer = "";
  }
}

/** One service's contract text as it stands in the services list (two levels in), JSON.stringify's own. */
function serviceText(s: TracedService): string {
  return "    " + JSON.stringify(contractService(s), null, 2).replace(/\n/g, "\n    ");
}
