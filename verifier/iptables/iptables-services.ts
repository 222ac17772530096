// What kube-proxy's iptables mode means by its chains, shared by the iptables-save and
// `iptables -L` readers: which rules in KUBE-SERVICES / KUBE-NODEPORTS are a service's
// clusterIP, external IP or nodePort entry, and which node addresses take NodePorts.
import type { Chain, ChainGraph, Rule, ServiceEntry } from "./graph";
import { reachableChains, singleAddress } from "./graph";
import type { DumpFormat } from "./types";

// kube-proxy hashes are base32 ([A-Z2-7]); hand-written examples use any capital or digit
const SERVICE_CHAIN = /^KUBE-(?:SVC|SVL|EXT|FW|XLB)-([A-Z0-9]{16})$/;
const HASHED_CHAIN_PREFIX = /^KUBE-(?:SVC|SVL|EXT|FW|XLB|SEP)-/;

/** A kube-proxy chain name whose 16-character hash is shorter: the line was cut there. */
export function isCutChainName(name: string): boolean {
  if (name.length >= 25 || name.charCodeAt(0) !== 75 /* K */ || !HASHED_CHAIN_PREFIX.test(name)) return false;
  const hash = name.slice(name.indexOf("-", 5) + 1);
  return hash.length < 16 && /^[A-Z0-9]*$/.test(hash);
}

/** kube-proxy's hash of a service port, shared by its SVC/SVL/EXT/FW/XLB chains. */
export function serviceHashOf(chain: string): string | undefined {
  return SERVICE_CHAIN.exec(chain)?.[1];
}

/** "ns/name:port cluster IP" -> { name: "ns/name:port", kind }; old eras wrote "ns/name: cluster IP". */
export function splitServiceComment(comment: string | undefined): { name: string | null; kind?: "clusterIP" | "external" } {
  if (comment === undefined) return { name: null };
  const m = /^(\S+?)(?::)? (cluster IP|external IP|loadbalancer IP)$/.exec(comment);
  if (m) return { name: cleanName(m[1]), kind: m[2] === "cluster IP" ? "clusterIP" : "external" };
  if (/^[^\s/]+\/[^\s/]+$/.test(comment)) return { name: cleanName(comment) };
  return { name: null };
}

function cleanName(name: string): string {
  return name.endsWith(":") ? name.slice(0, -1) : name;
}

function protocolOf(rule: Rule): "tcp" | "udp" | "sctp" | undefined {
  for (const c of rule.conds) {
    if (c.k === "proto" && !c.neg && c.protos.length === 1) {
      const p = c.protos[0];
      if (p === "tcp" || p === "udp" || p === "sctp") return p;
    }
  }
  return undefined;
}

function singlePort(rule: Rule): number | undefined {
  for (const c of rule.conds) {
    if (c.k === "dport" && !c.neg && c.ranges.length === 1 && c.ranges[0][0] === c.ranges[0][1]) return c.ranges[0][0];
  }
  return undefined;
}

function singleDst(rule: Rule): string | undefined {
  for (const c of rule.conds) {
    if (c.k === "dst" && !c.neg && c.cidrs.length === 1) return singleAddress(c.cidrs[0]);
  }
  return undefined;
}

function isLoopbackOnly(rule: Rule): boolean {
  return rule.conds.some((c) => (c.k === "dst" || c.k === "src") && !c.neg && c.cidrs.some((x) => x.text.startsWith("127.")));
}

export function finishIptablesGraph(format: DumpFormat, chains: Map<string, Chain>, warnings: string[]): ChainGraph {
  const services: ServiceEntry[] = [];
  const nodeIPs: string[] = [];
  for (const rule of chains.get("KUBE-SERVICES")?.rules ?? []) {
    const t = rule.target;
    if (t.k !== "jump" && t.k !== "goto") continue;
    if (t.chain === "KUBE-NODEPORTS") {
      const ip = singleDst(rule);
      if (ip !== undefined && !ip.startsWith("127.")) nodeIPs.push(ip);
      continue;
    }
    if (t.chain.startsWith("KUBE-MARK-")) continue;
    const ip = singleDst(rule);
    const port = singlePort(rule);
    const protocol = protocolOf(rule);
    if (ip === undefined || port === undefined || protocol === undefined) continue;
    const { name, kind } = splitServiceComment(rule.comment);
    const prefix = t.chain.slice(0, 9);
    const entryKind = kind ?? (prefix === "KUBE-SVC-" || prefix === "KUBE-SVL-" ? "clusterIP" : "external");
    services.push({ kind: entryKind, key: serviceHashOf(t.chain) ?? name ?? t.chain, name, protocol, ip, port, chain: t.chain, rule });
  }
  for (const rule of chains.get("KUBE-NODEPORTS")?.rules ?? []) {
    const t = rule.target;
    if ((t.k !== "jump" && t.k !== "goto") || t.chain.startsWith("KUBE-MARK-") || isLoopbackOnly(rule)) continue;
    const port = singlePort(rule);
    const protocol = protocolOf(rule);
    if (port === undefined || protocol === undefined) continue;
    const { name } = splitServiceComment(rule.comment);
    services.push({ kind: "nodePort", key: serviceHashOf(t.chain) ?? name ?? t.chain, name, protocol, port, chain: t.chain, rule });
  }
  assumeNodePortsJump(chains, warnings);
  const prerouting = chains.get("PREROUTING");
  const entry = prerouting && prerouting.rules.length > 0 ? ["PREROUTING"] : ["KUBE-SERVICES"];
  services.push(...serviceChainsWithoutEntry(chains, entry, services, warnings));
  return { format, chains, entry, nodeIPs, services, warnings };
}

const NODEPORTS_COMMENT = "kubernetes service nodeports; NOTE: this must be the last rule in this chain";

/**
 * kube-proxy always ends KUBE-SERVICES with `-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`
 * (or `-d nodeIP` rules with --nodeport-addresses; pkg/proxy/iptables/proxier.go). A paste that
 * shows KUBE-NODEPORTS but not KUBE-SERVICES whole lacks it; assume it, with a warning. A dump that
 * declares KUBE-SERVICES and has no such rule really lacks it: that is a finding, not a gap.
 */
function assumeNodePortsJump(chains: Map<string, Chain>, warnings: string[]): void {
  const nodePorts = chains.get("KUBE-NODEPORTS");
  if (!nodePorts || nodePorts.rules.length === 0) return;
  let services = chains.get("KUBE-SERVICES");
  if (services?.declared) return;
  for (const r of services?.rules ?? []) {
    if ((r.target.k === "jump" || r.target.k === "goto") && r.target.chain === "KUBE-NODEPORTS") return;
  }
  if (!services) chains.set("KUBE-SERVICES", (services = { name: "KUBE-SERVICES", builtin: false, rules: [] }));
  const line = nodePorts.rules[0].line;
  const text = `-A KUBE-SERVICES -m comment --comment "${NODEPORTS_COMMENT}" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`;
  warnings.push(`line ${line}: no rule in the paste leads to KUBE-NODEPORTS; assumed kube-proxy's last KUBE-SERVICES rule: ${text}`);
  services.rules.push({ line, chain: "KUBE-SERVICES", text: `${text} (assumed: not in the dump)`, comment: NODEPORTS_COMMENT, conds: [{ k: "dstLocal", neg: false }], target: { k: "jump", chain: "KUBE-NODEPORTS" } });
}

/**
 * A fragment (`iptables -t nat -S KUBE-SVC-X` and its KUBE-SEP chains) has service chains that no
 * KUBE-SERVICES rule leads to. Their clusterIP:port is in the chain's own masquerade rule
 * (`! -s podCIDR -d clusterIP -p tcp --dport port -j KUBE-MARK-MASQ`); the trace starts at the chain.
 */
function serviceChainsWithoutEntry(chains: Map<string, Chain>, entry: string[], found: ServiceEntry[], warnings: string[]): ServiceEntry[] {
  const entries = new Set(found.map((e) => e.chain));
  const out: ServiceEntry[] = [];
  let reached: Set<string> | undefined;
  for (const chain of chains.values()) {
    if (!chain.name.startsWith("KUBE-SVC-") || entries.has(chain.name) || chain.rules.length === 0) continue;
    // only when some service chain is no entry's target (never in a whole dump): is it reached at all?
    reached ??= reachableChains(chains, [...entry, "KUBE-SERVICES"]);
    if (reached.has(chain.name)) continue;
    const masq = chain.rules.find((r) => r.target.k === "jump" && r.target.chain === "KUBE-MARK-MASQ" && singleDst(r) !== undefined && singlePort(r) !== undefined);
    const first = chain.rules[0];
    if (!masq) {
      warnings.push(`line ${first.line}: no rule in the dump leads to ${chain.name} and it names no clusterIP (no masquerade rule with -d and --dport); not traced`);
      continue;
    }
    const protocol = protocolOf(masq) ?? "tcp";
    const name = chain.rules.map((r) => serviceNameOf(r.comment)).find((n) => n !== null) ?? null;
    warnings.push(`line ${masq.line}: no rule in the dump leads to ${chain.name}; its clusterIP ${singleDst(masq)}:${singlePort(masq)} is read from its masquerade rule and the trace starts at the chain`);
    out.push({ kind: "clusterIP", key: serviceHashOf(chain.name) ?? chain.name, name, protocol, ip: singleDst(masq), port: singlePort(masq)!, chain: chain.name, rule: masq, direct: true });
  }
  return out;
}

/** The service named by any of kube-proxy's comments: "ns/svc:p cluster IP", "ns/svc:p -> ip:port", "ns/svc:p". */
function serviceNameOf(comment: string | undefined): string | null {
  if (comment === undefined) return null;
  const arrow = comment.indexOf(" -> ");
  return splitServiceComment(arrow >= 0 ? comment.slice(0, arrow) : comment).name;
}
