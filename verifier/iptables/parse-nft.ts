// kube-proxy's nftables mode: `nft list table ip kube-proxy`, `nft list ruleset` (other tables are
// skipped) or the `add table/chain/rule/element ...` script form kube-proxy's own tests use ->
// chain graph, with the service entries read from the verdict maps.
import type { Chain, ChainGraph, Rule, ServiceEntry } from "./graph";
import { parseCidr, reachableChains, singleAddress } from "./graph";
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
    c.chain.declared = !table.partialChains.has(name);
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
  services.push(...serviceChainsWithoutEntry(chains, entry, services, warnings));
  return { format: "nft", chains, entry, nodeIPs, services, warnings };
}

/**
 * A fragment of kube-proxy's nftables table without `chain services` and its maps: its service
 * chains (`service-HASH-ns/name/proto/portName`) are traced from themselves. The chain's masquerade
 * rule (`ip daddr clusterIP ip saddr != podCIDR jump mark-for-masquerade`) gives the clusterIP; the
 * port's number is in no rule there (the name has the port's name), so it stays unknown.
 */
function serviceChainsWithoutEntry(chains: Map<string, Chain>, entry: string[], found: ServiceEntry[], warnings: string[]): ServiceEntry[] {
  const entries = new Set(found.map((e) => e.chain));
  let reached: Set<string> | undefined;
  const out: ServiceEntry[] = [];
  for (const chain of chains.values()) {
    const m = /^service-([^-]+)-([^/]+)\/([^/]+)\/(tcp|udp|sctp)\/(.*)$/.exec(chain.name);
    if (!m || entries.has(chain.name) || chain.rules.length === 0) continue;
    // only when some service chain is no entry's target: is it reached from the hooks at all?
    reached ??= reachableChains(chains, [...entry, ...entries]);
    if (reached.has(chain.name)) continue;
    const masq = chain.rules.find((r) => r.target.k === "jump" && r.target.chain === "mark-for-masquerade" && r.conds.some((c) => c.k === "dst" && !c.neg && c.cidrs.length === 1));
    const dst = masq?.conds.find((c) => c.k === "dst" && !c.neg);
    const ip = dst && dst.k === "dst" ? singleAddress(dst.cidrs[0]) : undefined;
    if (!masq || ip === undefined) {
      warnings.push(`line ${chain.rules[0].line}: no rule in the dump leads to ${chain.name} and it names no clusterIP; not traced`);
      continue;
    }
    const name = `${m[2]}/${m[3]}${m[5] ? ":" + m[5] : ""}`;
    warnings.push(`line ${masq.line}: no verdict map in the dump leads to ${chain.name} (no \`chain services\`); its clusterIP ${ip} is read from its masquerade rule, its port number is not in the dump, and the trace starts at the chain`);
    out.push({ kind: "clusterIP", key: `${m[1]}-${m[2]}/${m[3]}/${m[4]}/${m[5]}`, name, protocol: m[4] as "tcp" | "udp" | "sctp", ip, port: null, chain: chain.name, rule: masq, direct: true });
  }
  return out;
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
    c.chain.declared = !table.partialChains.has(name);
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
