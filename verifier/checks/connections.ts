// End to end: which KUBE-SEP rule took how many new connections while the requests ran, per node,
// from `iptables-save -c` before and after. Only a connection's first packet traverses the nat
// table (conntrack rewrites the rest), so a counter step is one new connection, not one request.
import type { PathModel } from "../model";
import { memoCounterDeltas, tracedDump } from "./trace-cache";
import { endpointKey, findTracedService } from "./context";
import { detectPathMode } from "./path-mode";

export interface EndpointConnections {
  chain: string;
  endpoint?: string;
  pod?: string;
  line: number;
  rule: string;
  newConnections: number;
}

export interface NodeConnections {
  node: string;
  /** the Service's DNAT rules that moved */
  endpoints: EndpointConnections[];
  /** the KUBE-NODEPORTS rule for the nodePort: connections that entered this node by n-port */
  nodePortEntries?: { line: number; rule: string; newConnections: number };
  total: number;
  /** why this node has no account */
  unavailable?: string;
}

export interface ConnectionAccount {
  requests: number;
  keepAlive: boolean;
  nodes: NodeConnections[];
  /** new connections DNATed to the Service's pods, all nodes together */
  total: number;
  explanation: string[];
}

export const NAT_FIRST_PACKET =
  "Only a connection's first packet traverses the nat table; conntrack handles the rest, so a rule's counter moves once per new connection, not per request or packet (keep-alive connections move it once).";
export const FRONT_END_CONNECTIONS =
  "The load balancer ends the client's TCP connection and opens its own to the nodes: it may reuse them for many requests (fewer counts than requests) and its health checks open more (extra counts).";
/** The same on the container-native path (design.md, "The container-native path"): no node is a backend. */
export const FRONT_END_CONNECTIONS_NEG =
  "The load balancer ends the client's TCP connection and opens its own to the NEG endpoints, the pods' p-ip:p-port, each routed through the pod's node and forwarded there without DNAT: the nodes' nat counters do not see them (only connections that enter by n-port move them).";

/** What the load balancer's own connections go to, on this path: the nodes, or the NEG endpoints. */
export const frontEndConnections = (neg: boolean) => (neg ? FRONT_END_CONNECTIONS_NEG : FRONT_END_CONNECTIONS);

export function accountNewConnections(model: PathModel): ConnectionAccount | undefined {
  if (!model.nodes.some((n) => n.countersBefore || n.countersAfter)) return undefined;
  const service = model.kubernetes?.service;
  const port = service?.ports.find((p) => p.port === model.target.expected?.servicePort) ?? service?.ports.find((p) => p.nodePort !== undefined);
  const nodePort = port?.nodePort ?? model.target.expected?.nodePort;
  const names = service ? [`${service.namespace}/${service.name}${port?.name ? ":" + port.name : ""}`, `${service.namespace}/${service.name}`] : [];
  const pods = model.kubernetes?.pods ?? [];

  const nodes: NodeConnections[] = model.nodes.map((n) => {
    if (!n.countersBefore || !n.countersAfter) {
      return { node: n.name, endpoints: [], total: 0, unavailable: `counters ${n.countersBefore ? "after" : "before"} the requests were not read` };
    }
    // The chain -> endpoint map is the same in the plain dump the checks already traced.
    const traced = findTracedService(n.nat ? tracedDump(n.nat.text, n.internalIp, n.nat.lineNumbers) : tracedDump(n.countersAfter.text, undefined, n.countersAfter.lineNumbers), { clusterIP: service?.clusterIP, port: port?.port, nodePort, names });
    if (!traced) return { node: n.name, endpoints: [], total: 0, unavailable: "the Service's rules are not in the counted dump" };
    const byChain = new Map<string, { ip: string; port: number }>();
    [...traced.endpoints, ...(traced.nodePortEndpoints ?? [])].forEach((e) => e.chain && byChain.set(e.chain, e));
    const deltas = memoCounterDeltas(n.countersBefore.text, n.countersAfter.text, n.countersAfter.lineNumbers);
    const endpoints = deltas
      .filter((d) => byChain.has(d.chain) && /DNAT/i.test(d.text))
      .map((d) => {
        const ep = byChain.get(d.chain)!;
        return {
          chain: d.chain,
          endpoint: endpointKey(ep.ip, ep.port),
          pod: pods.find((p) => p.ip === ep.ip)?.name,
          line: d.line,
          rule: d.text,
          newConnections: d.packets,
        };
      });
    const entry = nodePort === undefined ? undefined : deltas.find((d) => d.chain === "KUBE-NODEPORTS" && new RegExp(`--dport ${nodePort}\\b`).test(d.text));
    return {
      node: n.name,
      endpoints,
      nodePortEntries: entry ? { line: entry.line, rule: entry.text, newConnections: entry.packets } : undefined,
      total: endpoints.reduce((s, e) => s + e.newConnections, 0),
    };
  });
  return {
    requests: model.requests?.results.length ?? 0,
    keepAlive: model.requests?.keepAlive ?? false,
    nodes,
    total: nodes.reduce((s, n) => s + n.total, 0),
    explanation: [NAT_FIRST_PACKET, frontEndConnections(detectPathMode(model, []).neg.detected)],
  };
}
