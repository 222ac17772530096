// What kube-proxy's iptables mode means by its chains, shared by the iptables-save and
// `iptables -L` readers: which rules in KUBE-SERVICES / KUBE-NODEPORTS are a service's
// clusterIP, external IP or nodePort entry, and which node addresses take NodePorts.
import type { Chain, ChainGraph, Rule, ServiceEntry } from "./graph";
import { singleAddress } from "./graph";
import type { DumpFormat } from "./types";

const SERVICE_CHAIN = /^KUBE-(?:SVC|SVL|EXT|FW|XLB)-([A-Z2-7]{16})$/;

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
  const prerouting = chains.get("PREROUTING");
  const entry = prerouting && prerouting.rules.length > 0 ? ["PREROUTING"] : ["KUBE-SERVICES"];
  return { format, chains, entry, nodeIPs, services, warnings };
}
