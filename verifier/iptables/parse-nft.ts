// kube-proxy's nftables mode: `nft list table ip kube-proxy`, `nft list ruleset` (other tables are
// skipped) or the `add table/chain/rule/element ...` script form kube-proxy's own tests use ->
// chain graph, with the service entries read from the verdict maps.
import type { Chain, ChainGraph, Rule, ServiceEntry } from "./graph";
import { parseCidr, singleAddress } from "./graph";
import { finishIptablesGraph } from "./iptables-services";
import { parseStatement } from "./nft-rule";
import { type NftTable, readStructure } from "./nft-structure";

const KUBE_PROXY_TABLE = "kube-proxy";

export function parseNft(text: string): ChainGraph {
  const warnings: string[] = [];
  const tables = readStructure(text, warnings);
  const iptablesNat = iptablesNatTable(tables);
  if (iptablesNat) return readIptablesNft(iptablesNat, warnings);
  const table = pickTable(tables, warnings);
  const chains = new Map<string, Chain>();
  const services: ServiceEntry[] = [];
  const entry: string[] = [];
  const nodeIPs: string[] = [];
  if (!table) return { format: "nft", chains, entry, nodeIPs, services, warnings };

  for (const [name, c] of table.chains) {
    c.chain.declared = true;
    chains.set(name, c.chain);
  }
  for (const st of table.statements) {
    const chain = chains.get(st.chain);
    if (!chain) continue;
    const rules = parseStatement(st.text, st.line, st.chain, table, warnings);
    if (rules) chain.rules.push(...rules);
  }
  const hooks = [...table.chains.values()]
    .filter((c) => c.hook?.type === "nat" && c.hook.hook === "prerouting")
    .sort((a, b) => a.hook!.priority - b.hook!.priority);
  for (const h of hooks) entry.push(h.chain.name);
  if (entry.length === 0 && chains.has("services")) entry.push("services");
  for (const e of table.sets.get("nodeport-ips")?.elements ?? []) {
    const ip = parseCidr(e.key[0] ?? "");
    const single = ip ? singleAddress(ip) : undefined;
    if (single) nodeIPs.push(single);
  }
  for (const chain of chains.values()) {
    for (const rule of chain.rules) {
      const s = serviceEntryOf(rule);
      if (s) services.push(s);
    }
  }
  return { format: "nft", chains, entry, nodeIPs, services, warnings };
}


/**
 * kube-proxy's iptables mode on the nft backend, seen through `nft list ruleset`: iptables-nft's own
 * `table ip nat` with the KUBE-* chains (and no kube-proxy table, which would mean nftables mode).
 */
function iptablesNatTable(tables: NftTable[]): NftTable | undefined {
  if (tables.some((t) => t.name === KUBE_PROXY_TABLE)) return undefined;
  return tables.find((t) => t.family === "ip" && t.name === "nat" && [...t.chains.keys()].some((c) => c.startsWith("KUBE-")));
}

/** The same chains iptables-save would print, read from nft's words, then kube-proxy's entries as for iptables. */
function readIptablesNft(table: NftTable, warnings: string[]): ChainGraph {
  warnings.push(...table.warnings);
  const chains = new Map<string, Chain>();
  for (const [name, c] of table.chains) {
    c.chain.declared = true;
    chains.set(name, c.chain);
  }
  for (const st of table.statements) {
    const chain = chains.get(st.chain);
    if (!chain) continue;
    const rules = parseStatement(st.text, st.line, st.chain, table, warnings);
    if (rules) chain.rules.push(...rules);
  }
  return finishIptablesGraph("nft", chains, warnings);
}

function pickTable(tables: NftTable[], warnings: string[]): NftTable | undefined {
  const kp = tables.find((t) => t.name === KUBE_PROXY_TABLE && t.family === "ip") ?? tables.find((t) => t.name === KUBE_PROXY_TABLE);
  if (kp) {
    warnings.push(...kp.warnings);
    return kp;
  }
  const iptNat = tables.find((t) => t.name === "nat" && t.chains.has("KUBE-SERVICES"));
  warnings.push(
    iptNat
      ? "line 1: this nft ruleset holds kube-proxy's iptables-mode rules (table ip nat, via iptables-nft); trace the output of `iptables-save -t nat` instead"
      : "line 1: no `table ip kube-proxy` in this nft dump: kube-proxy is not in nftables mode on this node; try `iptables-save -t nat`",
  );
  return undefined;
}

/** A dispatch from a verdict map to a service chain: a clusterIP, external or nodePort entry. */
function serviceEntryOf(rule: Rule): ServiceEntry | undefined {
  const t = rule.target;
  const d = rule.dispatch;
  if (!d || (t.k !== "goto" && t.k !== "jump")) return undefined;
  const m = /^(service|external)-([^-]+)-(.+)$/.exec(t.chain);
  const protocol = d.protocol;
  if (!m || d.port === undefined || (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp")) return undefined;
  // chain suffix "ns/name/proto/portName" -> "ns/name:portName"
  const parts = m[3].split("/");
  const name = parts.length >= 4 ? `${parts[0]}/${parts[1]}${parts[3] ? ":" + parts.slice(3).join("/") : ""}` : null;
  const key = `${m[2]}-${m[3]}`;
  if (d.dst !== undefined) {
    return { kind: m[1] === "service" ? "clusterIP" : "external", key, name, protocol, ip: d.dst, port: d.port, chain: t.chain, rule };
  }
  return { kind: "nodePort", key, name, protocol, port: d.port, chain: t.chain, rule };
}
