// The rule WRITER: the nat table as kube-proxy's iptables mode (1.28+ layout, KUBE-EXT era) writes it,
// as `iptables-restore` input. The lab loads it into its node namespaces and the parse benchmark
// uses it to generate large dumps, so its output must be what a real node shows.
//
// Deliberate differences from kube-proxy: kube-proxy hooks PREROUTING/OUTPUT/POSTROUTING with
// separate `iptables -I` calls and never restores those built-in chains; here they are part of
// the restore input so that one `iptables-restore` gives a working table in an empty namespace.
// writeFilterRules gives the filter table of the same era (KUBE-FORWARD, KUBE-SERVICES,
// KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS, KUBE-PROXY-FIREWALL and their jumps), so a node built
// from both tables forwards, rejects and drops as a real node does.
import { isIP } from "node:net";
import {
  endpointChain,
  endpointString,
  externalChain,
  serviceChain,
  serviceLocalChain,
  servicePortName,
} from "./chain-names";

export type Protocol = "tcp" | "udp" | "sctp";

export interface NatEndpointSpec {
  ip: string;
  port: number;
  nodeName?: string;
  /** runs on the node whose rules these are (for externalTrafficPolicy Local) */
  local?: boolean;
}

export interface NatServiceSpec {
  namespace: string;
  name: string;
  portName?: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  nodePort?: number;
  externalTrafficPolicy?: "Cluster" | "Local";
  endpoints: NatEndpointSpec[];
}

export interface NatRulesSpec {
  services: NatServiceSpec[];
  /** pod CIDR for kube-proxy's `--cluster-cidr` local-traffic detector; without it no `! -s` masq rule */
  clusterCIDR?: string;
  /** `--nodeport-addresses`: NodePorts only on these IPs (`-d ip -j KUBE-NODEPORTS`) instead of every local address */
  nodeIPs?: string[];
  /** the node the rules are for: an endpoint with this nodeName counts as local (as does `local: true`) */
  nodeName?: string;
}

/** kube-proxy drops per-endpoint comments above this many endpoints ("large cluster mode"). */
const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;
const MASQ_MARK = "0x4000";

/** kube-proxy's probability for the i-th of n remaining endpoints: 1/n with 10 decimals. */
export function probability(remaining: number): string {
  return (1 / remaining).toFixed(10);
}

/** Quote a comment the way kube-proxy does: only when it contains a space. */
function comment(text: string): string {
  return /\s/.test(text) ? `"${text}"` : text;
}

/** Every problem of the spec at once, so one bad service does not hide the next. */
export function validateNatRulesSpec(spec: NatRulesSpec): string[] {
  const problems: string[] = [];
  const port = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
  if (spec.clusterCIDR !== undefined && !/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(spec.clusterCIDR)) {
    problems.push(`clusterCIDR "${spec.clusterCIDR}" is not a CIDR: write it like 10.244.0.0/16`);
  }
  for (const ip of spec.nodeIPs ?? []) {
    if (!isIP(ip)) problems.push(`nodeIPs: "${ip}" is not an IP address`);
  }
  const seen = new Set<string>();
  spec.services.forEach((svc, i) => {
    const where = `services[${i}] (${svc.namespace}/${svc.name}${svc.portName ? ":" + svc.portName : ""})`;
    if (!svc.namespace || !svc.name) problems.push(`${where}: namespace and name are required`);
    if (!["tcp", "udp", "sctp"].includes(svc.protocol)) problems.push(`${where}: protocol "${svc.protocol}" must be tcp, udp or sctp`);
    if (!isIP(svc.clusterIP)) problems.push(`${where}: clusterIP "${svc.clusterIP}" is not an IP address`);
    if (!port(svc.port)) problems.push(`${where}: port ${svc.port} must be an integer 1..65535`);
    if (svc.nodePort !== undefined && !port(svc.nodePort)) problems.push(`${where}: nodePort ${svc.nodePort} must be an integer 1..65535`);
    const key = servicePortName(svc.namespace, svc.name, svc.portName) + "/" + svc.protocol;
    if (seen.has(key)) problems.push(`${where}: the same namespace/name/portName/protocol appears twice; give each port a distinct portName`);
    seen.add(key);
    svc.endpoints.forEach((ep, j) => {
      if (!isIP(ep.ip)) problems.push(`${where}: endpoints[${j}].ip "${ep.ip}" is not an IP address`);
      if (!port(ep.port)) problems.push(`${where}: endpoints[${j}].port ${ep.port} must be an integer 1..65535`);
    });
  });
  return problems;
}

/**
 * iptables-restore input for table nat. Services without endpoints get no nat rules (kube-proxy
 * rejects them in the filter table instead). Throws one Error listing every problem of the spec.
 */
export function writeNatRules(spec: NatRulesSpec): string {
  const problems = validateNatRulesSpec(spec);
  if (problems.length > 0) {
    throw new Error(`writeNatRules: invalid spec:\n  - ${problems.join("\n  - ")}`);
  }
  const totalEndpoints = spec.services.reduce((n, s) => n + s.endpoints.length, 0);
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const isLocal = (ep: NatEndpointSpec) => ep.local === true || (spec.nodeName !== undefined && ep.nodeName === spec.nodeName);

  const chains: string[] = ["KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-MARK-MASQ"];
  const rules: string[] = [
    `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
  ];

  for (const svc of spec.services) {
    if (svc.endpoints.length === 0) continue;
    const spn = servicePortName(svc.namespace, svc.name, svc.portName);
    const proto = svc.protocol;
    const svcChain = serviceChain(spn, proto);
    const extChain = externalChain(spn, proto);
    const svlChain = serviceLocalChain(spn, proto);
    const externalLocal = svc.externalTrafficPolicy === "Local";
    const localEndpoints = svc.endpoints.filter(isLocal);
    const clusterIPMatch = `-m comment --comment ${comment(`${spn} cluster IP`)} -m ${proto} -p ${proto} -d ${svc.clusterIP} --dport ${svc.port}`;

    rules.push(`-A KUBE-SERVICES ${clusterIPMatch} -j ${svcChain}`);
    if (svc.nodePort !== undefined) {
      rules.push(`-A KUBE-NODEPORTS -m comment --comment ${comment(spn)} -m ${proto} -p ${proto} --dport ${svc.nodePort} -j ${extChain}`);
      chains.push(extChain);
      if (!externalLocal) {
        rules.push(`-A ${extChain} -m comment --comment ${comment(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`);
      } else {
        // Local policy keeps the client's source IP; only pod- and node-originated traffic is
        // short-circuited to the cluster-wide chain.
        if (spec.clusterCIDR) {
          rules.push(`-A ${extChain} -m comment --comment ${comment(`pod traffic for ${spn} external destinations`)} -s ${spec.clusterCIDR} -j ${svcChain}`);
        }
        rules.push(`-A ${extChain} -m comment --comment ${comment(`masquerade LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
        rules.push(`-A ${extChain} -m comment --comment ${comment(`route LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${svcChain}`);
      }
      if (!externalLocal) rules.push(`-A ${extChain} -j ${svcChain}`);
      else if (localEndpoints.length > 0) rules.push(`-A ${extChain} -j ${svlChain}`);
    }

    chains.push(svcChain);
    if (spec.clusterCIDR) rules.push(`-A ${svcChain} ${clusterIPMatch} ! -s ${spec.clusterCIDR} -j KUBE-MARK-MASQ`);
    writeCascade(rules, svcChain, spn, proto, svc.endpoints, largeClusterMode);
    if (externalLocal && svc.nodePort !== undefined && localEndpoints.length > 0) {
      chains.push(svlChain);
      writeCascade(rules, svlChain, spn, proto, localEndpoints, largeClusterMode);
    }

    for (const ep of svc.endpoints) {
      const epStr = endpointString(ep.ip, ep.port);
      const sep = endpointChain(spn, proto, epStr);
      chains.push(sep);
      const svcComment = largeClusterMode ? "" : ` -m comment --comment ${comment(spn)}`;
      rules.push(`-A ${sep}${svcComment} -s ${ep.ip} -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep}${svcComment} -m ${proto} -p ${proto} -j DNAT --to-destination ${epStr}`);
    }
  }

  // NodePorts last: KUBE-SERVICES matches clusterIPs first, anything else local goes to KUBE-NODEPORTS.
  const nodePortsComment = `-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"`;
  if (spec.nodeIPs && spec.nodeIPs.length > 0) {
    for (const ip of spec.nodeIPs) rules.push(`-A KUBE-SERVICES ${nodePortsComment} -d ${ip} -j KUBE-NODEPORTS`);
  } else {
    rules.push(`-A KUBE-SERVICES ${nodePortsComment} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`);
  }

  const header = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ...chains.map((c) => `:${c} - [0:0]`),
  ];
  return [...header, ...rules, "COMMIT", ""].join("\n");
}

/** The random split: rule i of n matches with probability 1/(n-i); the last rule always matches. */
function writeCascade(rules: string[], chain: string, spn: string, proto: Protocol, endpoints: NatEndpointSpec[], largeClusterMode: boolean): void {
  endpoints.forEach((ep, i) => {
    const epStr = endpointString(ep.ip, ep.port);
    const parts = [`-A ${chain}`];
    if (!largeClusterMode) parts.push(`-m comment --comment ${comment(`${spn} -> ${epStr}`)}`);
    if (i < endpoints.length - 1) parts.push(`-m statistic --mode random --probability ${probability(endpoints.length - i)}`);
    parts.push(`-j ${endpointChain(spn, proto, epStr)}`);
    rules.push(parts.join(" "));
  });
}

/**
 * iptables-restore input for table filter, as kube-proxy's iptables mode (1.28+) writes it
 * (pkg/proxy/iptables/proxier.go, syncProxyRules and iptablesJumpChains): the jumps from INPUT,
 * FORWARD and OUTPUT into its chains; KUBE-FORWARD accepting packets carrying the masquerade mark
 * 0x4000 (so NodePort traffic is forwarded even when the FORWARD policy is DROP) and established
 * ones; a REJECT in KUBE-SERVICES / KUBE-EXTERNAL-SERVICES for a Service without endpoints; and,
 * under externalTrafficPolicy Local on a node without a local endpoint, a DROP of the nodePort in
 * KUBE-EXTERNAL-SERVICES. The built-in chains' policies are ACCEPT, as on a GKE node. Throws like
 * writeNatRules for an invalid spec.
 */
export function writeFilterRules(spec: NatRulesSpec): string {
  const problems = validateNatRulesSpec(spec);
  if (problems.length > 0) throw new Error(`writeFilterRules: invalid spec:\n  - ${problems.join("\n  - ")}`);
  const isLocal = (ep: NatEndpointSpec) => ep.local === true || (spec.nodeName !== undefined && ep.nodeName === spec.nodeName);
  const newOnly = "-m conntrack --ctstate NEW";
  const rules: string[] = [
    // kube-proxy prepends its jumps, so the last one it ensures comes first.
    `-A INPUT ${newOnly} -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
    `-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS`,
    `-A INPUT ${newOnly} -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
    `-A FORWARD ${newOnly} -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
    `-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
    `-A FORWARD ${newOnly} -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A FORWARD ${newOnly} -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
    `-A OUTPUT ${newOnly} -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
    `-A OUTPUT ${newOnly} -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
  ];
  for (const svc of spec.services) {
    const spn = servicePortName(svc.namespace, svc.name, svc.portName);
    const proto = svc.protocol;
    const noEndpoints = svc.endpoints.length === 0;
    const noExternal = noEndpoints || (svc.externalTrafficPolicy === "Local" && !svc.endpoints.some(isLocal));
    const target = noEndpoints ? "REJECT" : "DROP";
    const why = comment(`${spn} has no ${noEndpoints ? "" : "local "}endpoints`);
    if (noEndpoints) {
      rules.push(`-A KUBE-SERVICES -m comment --comment ${why} -m ${proto} -p ${proto} -d ${svc.clusterIP} --dport ${svc.port} -j REJECT --reject-with icmp-port-unreachable`);
    }
    if (noExternal && svc.nodePort !== undefined) {
      rules.push(
        `-A KUBE-EXTERNAL-SERVICES -m comment --comment ${why} -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${svc.nodePort} -j ${target}` +
          (target === "REJECT" ? " --reject-with icmp-port-unreachable" : ""),
      );
    }
  }
  rules.push(
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  const header = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ...["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL"].map((c) => `:${c} - [0:0]`),
  ];
  return [...header, ...rules, "COMMIT", ""].join("\n");
}
