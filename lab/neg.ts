// The lab's container-native path (`lab up --backend neg`, design.md "The container-native path
// (NEG)"): the one module that knows how the lab stands in for network endpoint groups.
//
// What stands for what:
// - Zones: node-1, node-2, node-3 sit in lab-zone-a, -b, -c, so there is one NEG per zone as the
//   NEG controller makes them (same name in every zone with nodes; node-2's zone has no pod, so its
//   NEG is empty).
// - NEG endpoints: p-ip:p-port of each pod with the node (instance) hosting it. The LB health-checks
//   and proxies to them directly (lab/lb-proxy.mts with endpoint backends).
// - Alias IP routing: the VPC routes a pod's p-ip to the VM whose alias range holds it. In the lb
//   namespace (the lab's VPC) each node's pod range is routed via that node's n-ip, so every packet
//   to a pod crosses its node's forwarding and filter rules; no nat rule matches it (p-ip is not a
//   local address of the node), so KUBE-NODEPORTS and KUBE-SEP stay still.
// - The VPC firewall: a chain in the lb namespace (LAB-VPC-FIREWALL, on the LB's new connections to
//   the VPC) holding the one rule ingress-gce writes for an Ingress (k8s-fw-l7--<uid>: the health-
//   check ranges to tcp:30000-32767 and the NEG's p-port, target the nodes' tag), then the VPC's
//   implied deny. The LB's address stands for 130.211.0.0/22 and 35.191.0.0/16; the source reports
//   the rule as the Google Cloud rule it stands for, with the ports read back from the chain.
// - The readiness gate cloud.google.com/load-balancer-neg-ready: turns True once the LB has seen
//   the pod's endpoint pass a health check since the pod started (LoadBalancerNegReady), stays True
//   afterwards (ingress-gce stops tracking a pod once the gate is True: pkg/neg/readiness,
//   needToProcess), or turns True after 10 minutes without a passing check (LoadBalancerNegTimeout,
//   ingress-gce's unreadyTimeout) without the LB ever having seen it healthy.
import { readFileSync } from "node:fs";
import { writeFilterRules, writeNatRules, type NatEndpointSpec } from "../verifier/iptables/kube-proxy-rules";
import type {
  FirewallRuleModel,
  HealthState,
  KubernetesModel,
  LoadBalancerModel,
  NetworkEndpointGroupModel,
  PodConditionModel,
  Problem,
} from "../verifier/model";
import { HEALTH_CHECK_RANGES } from "../verifier/checks/firewall";
import { NEG_GATE_REASONS, NEG_READINESS_GATE } from "../verifier/neg";
import type { LbBackendStatus, LbStatus } from "./lb-control";
import { addRoute, execInNamespace } from "./netns";
import type { LabState } from "./state";
import { nodeByName, type LabNode, type LabPod, type LabTopology } from "./topology";

/** Which path `lab up` builds: the article's (instance groups, n-port) or the container-native one. */
export type LabBackendMode = "instance-group" | "neg";
export const LAB_BACKEND_MODES: readonly LabBackendMode[] = ["instance-group", "neg"];

/** ingress-gce's unreadyTimeout: a gate still False this long after the pod was created turns True anyway. */
export const NEG_READINESS_TIMEOUT_MS = 10 * 60 * 1000;
/** The lb namespace's chain standing for the VPC firewall (NEG lab only). */
export const VPC_FIREWALL_CHAIN = "LAB-VPC-FIREWALL";
const NODE_PORT_RANGE = "30000-32767";
const START_MARGIN_MS = 100;

export interface NegLayout {
  /** node name -> zone */
  zones: Record<string, string>;
  /** zones with nodes, in node order: one NEG each */
  negZones: string[];
  /** the NEG's name (the same in every zone), also the backend service's and the health check's, as ingress-gce names them */
  negName: string;
  /** the Service annotation cloud.google.com/neg-status */
  negStatus: string;
}

/** The NEG lab's zones and names; pure (derived from the topology). */
export function negLayout(t: LabTopology): NegLayout {
  const zones = Object.fromEntries(t.nodes.map((n, i) => [n.name, `lab-zone-${String.fromCharCode(97 + i)}`]));
  const negZones = [...new Set(Object.values(zones))];
  // k8s1-<cluster uid, 8>-<namespace>-<service>-<s-port>-<hash, 8>, as the NEG controller names it.
  const uid = hash8(`${t.prefix}${t.net}`);
  const svc = t.service;
  const negName = `k8s1-${uid}-${svc.namespace}-${svc.name}-${svc.port}-${hash8(`${uid}/${svc.namespace}/${svc.name}/${svc.port}`)}`;
  const negStatus = JSON.stringify({ network_endpoint_groups: { [String(svc.port)]: negName }, zones: negZones });
  return { zones, negZones, negName, negStatus };
}

function hash8(text: string): string {
  let h = 0x811c9dc5;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

// ---------------------------------------------------------------- where the pods are

/** A pod where it runs now: at home (topology) or moved by the endpoint-stale fault. */
export interface PlacedPod extends LabPod {
  /** the node the topology puts it on; differs from nodeName after a move */
  homeNode: string;
}

/** p-ip of a pod placed on another node than its home: in that node's range, never the home address. */
export function movedPodIp(t: LabTopology, pod: LabPod, node: LabNode): string {
  const index = t.pods.findIndex((p) => p.name === pod.name);
  return node.podCidr.replace(/\.0\/24$/, `.${10 + index}`);
}

/** The pods as they run now: `state.negMoves` (pod -> node) says which were moved. */
export function placedPods(t: LabTopology, state: Pick<LabState, "negMoves"> | undefined): PlacedPod[] {
  return t.pods.map((pod) => {
    const moved = state?.negMoves?.[pod.name];
    if (!moved || moved === pod.nodeName) return { ...pod, homeNode: pod.nodeName };
    const node = nodeByName(t, moved);
    return { ...pod, nodeName: node.name, ip: movedPodIp(t, pod, node), homeNode: pod.nodeName };
  });
}

// ---------------------------------------------------------------- building

/** The NEG endpoints the LB starts with: p-ip:p-port of every pod, with its node, zone and NEG. */
export function negLbBackends(t: LabTopology): { name: string; ip: string; port: number; instance: string; zone: string; group: string }[] {
  const layout = negLayout(t);
  return t.pods.map((p) => ({
    name: `${p.ip}:${t.service.podPort}`,
    ip: p.ip,
    port: t.service.podPort,
    instance: p.nodeName,
    zone: layout.zones[p.nodeName],
    group: layout.negName,
  }));
}

/** The ports the lab's firewall rule admits when healthy: the node-port range and p-port (ingress-gce's L7 rule with NEGs). */
export function healthyFirewallPorts(t: LabTopology): string[] {
  return [NODE_PORT_RANGE, String(t.service.podPort)];
}

/**
 * The lb namespace's filter table: new TCP connections the LB opens into the VPC go through
 * LAB-VPC-FIREWALL, which accepts `ports` (iptables multiport: "30000-32767" is written 30000:32767)
 * and drops the rest, as the VPC's implied deny ingress does. Replaces the whole table.
 */
export async function writeVpcFirewall(t: LabTopology, bridge: string, ports: string[]): Promise<void> {
  const lines = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    `:${VPC_FIREWALL_CHAIN} - [0:0]`,
    `-A OUTPUT -o ${bridge} -p tcp -m conntrack --ctstate NEW -j ${VPC_FIREWALL_CHAIN}`,
  ];
  if (ports.length > 0) {
    lines.push(
      `-A ${VPC_FIREWALL_CHAIN} -p tcp -m multiport --dports ${ports.map((p) => p.replace("-", ":")).join(",")} ` +
        `-m comment --comment "${t.lb.firewallRule}: ${HEALTH_CHECK_RANGES.join(",")} to tag ${t.networkTag}" -j ACCEPT`,
    );
  }
  lines.push(`-A ${VPC_FIREWALL_CHAIN} -m comment --comment "implied deny ingress" -j DROP`, "COMMIT", "");
  await execInNamespace(t.lb.namespace, ["iptables-restore", "-w"], { input: lines.join("\n") });
}

/**
 * The VPC's alias IP routes in the lb namespace (each node's pod range via its n-ip) and the VPC
 * firewall chain. Called by `lab up --backend neg` after the article's network is built.
 */
export async function buildNegNetwork(t: LabTopology, bridge: string): Promise<void> {
  await Promise.all(t.nodes.map((n) => addRoute(t.lb.namespace, n.podCidr, { via: n.internalIp })));
  await writeVpcFirewall(t, bridge, healthyFirewallPorts(t));
}

/**
 * kube-proxy's tables on one node for the given endpoints (the Service's ready ones): kube-proxy
 * keeps writing them on a NEG cluster, they are just not on the LB's path.
 */
export async function loadKubeProxyRulesFor(t: LabTopology, node: LabNode, endpoints: NatEndpointSpec[]): Promise<void> {
  const spec = {
    nodeName: node.name,
    clusterCIDR: t.clusterCidr,
    services: [
      {
        namespace: t.service.namespace,
        name: t.service.name,
        protocol: "tcp" as const,
        clusterIP: t.service.clusterIP,
        port: t.service.port,
        nodePort: t.service.nodePort,
        externalTrafficPolicy: "Cluster" as const,
        endpoints,
      },
    ],
  };
  await execInNamespace(node.namespace, ["iptables-restore", "-w"], { input: writeFilterRules(spec) + writeNatRules(spec) });
}

// ---------------------------------------------------------------- readiness gate

/** When a process started (ISO 8601), from /proc; undefined when it is gone. */
export function processStartedAt(pid: number | undefined): string | undefined {
  if (!pid) return undefined;
  try {
    // Field 22 of /proc/<pid>/stat: start time in clock ticks after boot (the name in field 2 may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    // The boot time from /proc/uptime (10 ms steps), not /proc/stat's btime (whole seconds: a check
    // passed by the previous server in the second before a restart would count for the new one).
    const uptimeMs = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;
    if (!Number.isFinite(ticks) || !Number.isFinite(uptimeMs)) return undefined;
    // USER_HZ is 100 on every Linux the lab runs on (sysconf(_SC_CLK_TCK)).
    return new Date(Date.now() - uptimeMs + ticks * 10).toISOString();
  } catch {
    return undefined;
  }
}

/**
 * The pod's cloud.google.com/load-balancer-neg-ready condition as the NEG controller would set it.
 * `startedAt`: when the pod (its server) started, undefined when it is not running; `endpoint`: the
 * LB's status of the pod's current p-ip:p-port, undefined when no NEG lists it; `now` in ms.
 * Reasons and their meaning from ingress-gce pkg/neg/readiness (reflector.go).
 */
export function negReadinessCondition(
  startedAt: string | undefined,
  endpoint: Pick<LbBackendStatus, "lastOkAt" | "zone" | "group"> | undefined,
  backendService: string,
  now: number,
): PodConditionModel {
  const neg = endpoint ? `${endpoint.zone}/${endpoint.group}` : undefined;
  // Sticky: a pass since the pod started keeps the gate True whatever the endpoint does later. The
  // margin covers the start time's 10 ms steps; no server answers a check that soon after starting.
  const passedSinceStart =
    endpoint?.lastOkAt !== undefined && (startedAt === undefined || Date.parse(endpoint.lastOkAt) >= Date.parse(startedAt) + START_MARGIN_MS);
  if (passedSinceStart) {
    return {
      type: NEG_READINESS_GATE,
      status: "True",
      reason: NEG_GATE_REASONS.ready,
      message: `the pod's endpoint passed a health check in NEG ${neg} of backend service ${backendService}`,
    };
  }
  if (startedAt !== undefined && now - Date.parse(startedAt) > NEG_READINESS_TIMEOUT_MS) {
    return {
      type: NEG_READINESS_GATE,
      status: "True",
      reason: NEG_GATE_REASONS.timeout,
      message: `no passing health check ${NEG_READINESS_TIMEOUT_MS / 60000} minutes after the pod started: set True by timeout`,
    };
  }
  return {
    type: NEG_READINESS_GATE,
    status: "False",
    reason: NEG_GATE_REASONS.notReady,
    message: neg ? `waiting for the pod's endpoint to pass a health check in NEG ${neg}` : "waiting for the pod's endpoint to be added to a NEG and pass a health check",
  };
}

// ---------------------------------------------------------------- what the lab source reports

const healthState = (s: string): HealthState => (s === "HEALTHY" || s === "UNHEALTHY" ? s : "UNKNOWN");

/** The endpoint the LB holds for a pod's current address, if any NEG lists it. */
export function endpointOf(status: LbStatus | undefined, pod: { ip: string }, port: number): LbBackendStatus | undefined {
  return status?.backends.find((b) => b.ip === pod.ip && b.port === port);
}

export interface NegPodFacts {
  pod: PlacedPod;
  running: boolean;
  gate: PodConditionModel;
}

/** Per pod: where it is, whether its server runs, its readiness gate. */
export function negPodFacts(t: LabTopology, state: LabState, status: LbStatus | undefined, running: Record<string, boolean>, now = Date.now()): NegPodFacts[] {
  const layout = negLayout(t);
  return placedPods(t, state).map((pod) => {
    const isRunning = running[pod.name] ?? false;
    const startedAt = isRunning ? processStartedAt(state.pids[pod.name]) : undefined;
    const endpoint = endpointOf(status, pod, t.service.podPort);
    // A stopped server is a crashed container: the pod (and its gate, once True) stays.
    const gate = !isRunning && endpoint?.lastOkAt
      ? negReadinessCondition(undefined, endpoint, layout.negName, now)
      : negReadinessCondition(startedAt ?? new Date(now).toISOString(), endpoint, layout.negName, now);
    return { pod, running: isRunning, gate };
  });
}

/**
 * The Kubernetes side of the NEG lab, from the article lab's model (`base`, built for the pods
 * where they run now): the Service annotated for NEGs with its neg-status, pods with the readiness
 * gate (Ready only when the server runs and the gate is True), endpoints ready as the pods are, and
 * the nodes' zones.
 */
export function negKubernetesModel(t: LabTopology, base: KubernetesModel, facts: NegPodFacts[]): KubernetesModel {
  const layout = negLayout(t);
  const ready = (name: string) => {
    const f = facts.find((x) => x.pod.name === name);
    return f ? f.running && f.gate.status === "True" : false;
  };
  const condition = (type: string, ok: boolean): PodConditionModel => ({ type, status: ok ? "True" : "False" });
  return {
    ...base,
    service: base.service && {
      ...base.service,
      annotations: { "cloud.google.com/neg": '{"ingress": true}', "cloud.google.com/neg-status": layout.negStatus },
    },
    negStatus: { networkEndpointGroups: { [String(t.service.port)]: layout.negName }, zones: layout.negZones, raw: layout.negStatus },
    endpoints: base.endpoints.map((e) => ({ ...e, ready: e.podName ? ready(e.podName) : e.ready })),
    pods: base.pods.map((p) => {
      const f = facts.find((x) => x.pod.name === p.name);
      if (!f) return p;
      return {
        ...p,
        namespace: t.service.namespace,
        ready: ready(p.name),
        readinessGates: [NEG_READINESS_GATE],
        conditions: [condition("ContainersReady", f.running), f.gate, condition("Ready", ready(p.name))],
      };
    }),
    nodes: base.nodes.map((n) => ({ ...n, zone: layout.zones[n.name] })),
  };
}

/**
 * The firewall rule the lab's VPC firewall chain stands for, read back from the lb namespace's
 * filter table: the ports its ACCEPT rule admits. Undefined (and a problem) when the chain is gone.
 */
export function firewallFromLbFilter(t: LabTopology, filterSave: string, problems: Problem[]): FirewallRuleModel | undefined {
  const lines = filterSave.split("\n");
  if (!lines.some((l) => l.startsWith(`:${VPC_FIREWALL_CHAIN} `))) {
    problems.push({
      source: "lab",
      subject: t.lb.firewallRule,
      message: `the lab's VPC firewall chain ${VPC_FIREWALL_CHAIN} is not in ${t.lb.namespace}'s filter table`,
      hint: "put the lab back with: npm run lab -- repair",
    });
    return undefined;
  }
  const accept = lines.find((l) => l.startsWith(`-A ${VPC_FIREWALL_CHAIN} `) && / -j ACCEPT\b/.test(l));
  const ports = accept ? (/--dports (\S+)/.exec(accept)?.[1] ?? "").split(",").filter(Boolean).map((p) => p.replace(":", "-")) : [];
  return {
    name: t.lb.firewallRule,
    direction: "INGRESS",
    priority: 1000,
    sourceRanges: [...HEALTH_CHECK_RANGES],
    targetTags: [t.networkTag],
    allowed: ports.length > 0 ? [{ protocol: "tcp", ports }] : [],
    disabled: accept === undefined,
  };
}

/**
 * The LB side of the NEG lab: the article lab's model (`base`, for names and the frontend) with a
 * backend service whose backends are the NEGs (one per zone), its health per endpoint, the NEGs
 * with their endpoints as listNetworkEndpoints (healthStatus SHOW) returns them, and the firewall.
 */
export function negLoadBalancerModel(
  t: LabTopology,
  base: LoadBalancerModel,
  status: LbStatus | undefined,
  firewall: FirewallRuleModel | undefined,
): LoadBalancerModel {
  const layout = negLayout(t);
  const name = layout.negName;
  const endpoints = status?.backends.filter((b) => b.group === name) ?? [];
  // A detached NEG is no backend of the backend service: neither listed nor health-checked by it.
  const attachedZones = layout.negZones.filter((z) => !endpoints.some((b) => b.zone === z && b.attached === false));
  const negs: NetworkEndpointGroupModel[] = layout.negZones.map((zone) => ({
    name,
    zone,
    networkEndpointType: "GCE_VM_IP_PORT",
    defaultPort: t.service.podPort,
    kubernetesService: { namespace: t.service.namespace, name: t.service.name, port: String(t.service.port), clusterUid: name.split("-")[1] },
    ...(status
      ? {
          size: endpoints.filter((b) => b.zone === zone).length,
          endpoints: endpoints
            .filter((b) => b.zone === zone)
            .map((b) => ({
              ipAddress: b.ip,
              port: b.port,
              instance: b.instance,
              healths: attachedZones.includes(zone) ? [{ backendService: name, healthCheck: name, state: healthState(b.state) }] : [],
            })),
        }
      : {}),
  }));
  const health = endpoints
    .filter((b) => b.zone !== undefined && attachedZones.includes(b.zone))
    .map((b) => ({
      group: name,
      groupKind: "networkEndpointGroup" as const,
      zone: b.zone,
      instance: b.instance ?? "",
      ipAddress: b.ip,
      port: b.port,
      state: healthState(b.state),
      ...(b.state === "UNHEALTHY" && b.lastCheckError ? { detail: b.lastCheckError } : {}),
    }));
  const bsHealth = status ? (health.every((h) => h.state === "HEALTHY") && health.length > 0 ? "HEALTHY" : "UNHEALTHY") : "Unknown";
  const annotations = { ...base.annotations, "ingress.kubernetes.io/backends": JSON.stringify({ [name]: bsHealth }) };
  return {
    ...base,
    annotations,
    urlMap: base.urlMap && { ...base.urlMap, defaultService: name },
    backendServices: [
      {
        name,
        protocol: "HTTP",
        port: t.service.podPort,
        healthChecks: [name],
        kubernetesService: { service: `${t.service.namespace}/${t.service.name}`, port: String(t.service.port) },
        backends: attachedZones.map((zone) => ({ group: name, kind: "networkEndpointGroup" as const, zone })),
        health,
      },
    ],
    instanceGroups: [],
    instances: base.instances.map((i) => ({ ...i, zone: layout.zones[i.name] ?? i.zone })),
    healthCheckFirewalls: firewall ? [firewall] : [],
    networkEndpointGroups: negs,
    // ingress-gce's NEG health checks probe each endpoint's own port (no fixed port).
    healthChecks: (base.healthChecks ?? []).map(({ port: _port, ...h }) => ({ ...h, name, portSpecification: "USE_SERVING_PORT" })),
  };
}

/** The lb namespace's filter table as iptables-save prints it (the lab's VPC firewall). */
export async function readLbFilter(t: LabTopology): Promise<string> {
  return (await execInNamespace(t.lb.namespace, ["iptables-save", "-t", "filter"])).stdout;
}

// ---------------------------------------------------------------- the counters' contrast

/** Per NEG endpoint, while the requests ran: what the LB sent, who answered, and what the node's nat rules counted. */
export interface NegConnectionCheck {
  /** p-ip:p-port */
  endpoint: string;
  pod?: string;
  /** the node (instance) the endpoint is routed through */
  node?: string;
  /** TCP connections the LB opened to the endpoint for proxied requests in the counted window */
  lbProxyConnections: number;
  /** requests the pod at p-ip answered (from the answers' "Pod IP") */
  podAnswers: number;
  /** new connections that node's KUBE-NODEPORTS rule for n-port counted; undefined: not read */
  natNodePortConnections?: number;
  /** new connections that node's KUBE-SEP DNAT rules of the Service counted; undefined: not read */
  natDnatConnections?: number;
  /** the node's nat rules took none of the LB's connections: the nat box was skipped */
  natSkipped: boolean;
  /** why the contrast cannot be shown, or what moved */
  reason?: string;
}

/**
 * The article's contrast on the NEG path: the LB's connections went to p-ip:p-port and the pods
 * answered, while the KUBE-NODEPORTS and KUBE-SEP counters of the node the endpoint is routed
 * through stayed still. `account` from the verifier's counter reads, `before`/`after` the LB's status.
 */
export function compareNegWithLb(
  account: { nodes: { node: string; total: number; unavailable?: string; nodePortEntries?: { newConnections: number } }[] } | undefined,
  answers: { podIp?: string; status?: number }[],
  pods: { name: string; ip: string }[],
  before?: LbStatus,
  after?: LbStatus,
): NegConnectionCheck[] {
  if (!before || !after) return [];
  return after.backends
    .filter((b) => b.group !== undefined)
    .map((a) => {
      const b = before.backends.find((x) => x.name === a.name);
      const proxy = a.proxyConnections - (b?.proxyConnections ?? 0);
      const node = account?.nodes.find((n) => n.node === a.instance);
      const nodePort = node && !node.unavailable ? (node.nodePortEntries?.newConnections ?? 0) : undefined;
      const dnat = node && !node.unavailable ? node.total : undefined;
      const natSkipped = nodePort === 0 && dnat === 0;
      let reason: string | undefined;
      if (!node || node.unavailable) reason = `${a.instance ?? "the node"}'s nat counters were not read${node?.unavailable ? `: ${node.unavailable}` : ""}`;
      else if (!natSkipped) reason = `${a.instance}'s nat rules counted ${nodePort} at KUBE-NODEPORTS and ${dnat} at KUBE-SEP DNAT: something reached the node by n-port or the clusterIP while the requests ran`;
      return {
        endpoint: `${a.ip}:${a.port}`,
        pod: pods.find((p) => p.ip === a.ip)?.name,
        node: a.instance,
        lbProxyConnections: proxy,
        podAnswers: answers.filter((r) => r.podIp === a.ip && r.status === 200).length,
        natNodePortConnections: nodePort,
        natDnatConnections: dnat,
        natSkipped,
        ...(reason ? { reason } : {}),
      };
    });
}

/** The NEG lab's accounting as a report section: per endpoint, the LB's connections, the pod's answers, the node's still counters. */
export function negConnectionSection(rows: NegConnectionCheck[], keepAlive: boolean): { title: string; lines: string[] } {
  const title = `Lab NEG accounting (health checks held while counting; the LB ${keepAlive ? "reuses its connections" : "opens one connection per request"} to p-ip:p-port)`;
  if (rows.length === 0) return { title, lines: ["not available: the LB's status was not read before and after the requests"] };
  return {
    title,
    lines: rows.map(
      (r) =>
        `${r.endpoint}${r.pod ? ` (${r.pod})` : " (no pod)"} via ${r.node ?? "?"}: the LB opened ${r.lbProxyConnections}, the pod answered ${r.podAnswers}; ` +
        `${r.node ?? "the node"}'s nat counted ${r.natNodePortConnections ?? "?"} at KUBE-NODEPORTS, ${r.natDnatConnections ?? "?"} at KUBE-SEP DNAT: ` +
        (r.natSkipped ? "the nat box was skipped" : `NOT SKIPPED: ${r.reason}`),
    ),
  };
}
