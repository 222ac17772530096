// The lab's names, addresses and ports: the one place that knows them. Everything else (building,
// tearing down, the lab source, tests) asks this module, so a test lab with its own prefix and its
// own address block never touches a developer's running lab.
//
// Address plan inside one private /16 (10.<a>.<b>.0/16), none of it routed outside the lab:
//   <net>.0.0/24     "VPC subnet": the LB and the nodes' internal IPs (a bridge in the lb namespace)
//   <net>.64.0/18    cluster CIDR; node-k owns <net>.(64+k).0/24, its pod is <net>.(64+k).2
//                    (k <= 50, so the last node's range, <net>.114.0/24, stays inside the /18)
//   <net>.128.0/20   service range; the clusterIP lives here and on no interface
//   <net>.200.0/24   the "internet" between client and LB; the LB's "public IP" is <net>.200.1
//   <net>.250.0/24   management: a bridge in the root namespace to the nodes' sshd (their "external IPs")
// node-k's internal IP is <net>.0.(10+k) and its external IP <net>.250.(10+k): 50 nodes end at .60.

export interface LabNode {
  /** Kubernetes node name and instance name */
  name: string;
  namespace: string;
  /** address on the VPC subnet, what the LB targets */
  internalIp: string;
  /** address on the management network, what SSH connects to (the lab's "external IP") */
  externalIp: string;
  /** this node's pod range */
  podCidr: string;
  /** the node's own address in its pod range (gateway of its pods) */
  podGateway: string;
  /** root-namespace end of the node's management veth (enslaved to the management bridge) */
  managementVeth: string;
}

export interface LabPod {
  name: string;
  namespace: string;
  nodeName: string;
  ip: string;
}

export interface LabTopology {
  /** prefix of every namespace and root-namespace interface this lab creates */
  prefix: string;
  /** the first two octets of the lab's private /16, e.g. "10.213" */
  net: string;
  /** where pids, keys and the LB's status socket live */
  stateDir: string;
  client: { namespace: string; ip: string };
  lb: {
    namespace: string;
    /** the "public IP" clients use */
    publicIp: string;
    publicPort: number;
    /** the LB's address on the VPC subnet: source of proxied requests and health checks */
    vpcIp: string;
    /** names of the Google Cloud resources the lab stands in for */
    forwardingRule: string;
    targetProxy: string;
    urlMap: string;
    backendService: string;
    healthCheck: string;
    instanceGroup: string;
    firewallRule: string;
    zone: string;
    /** how often the LB health-checks each node */
    healthCheckIntervalMs: number;
  };
  nodes: LabNode[];
  pods: LabPod[];
  management: { bridge: string; gatewayIp: string; cidr: string };
  vpcCidr: string;
  clusterCidr: string;
  serviceCidr: string;
  publicCidr: string;
  service: {
    namespace: string;
    name: string;
    clusterIP: string;
    port: number;
    podPort: number;
    nodePort: number;
    selector: Record<string, string>;
  };
  deploymentName: string;
  ingressName: string;
  networkTag: string;
  sshUser: string;
  sshPort: number;
}

export interface TopologyOptions {
  /** namespace/interface prefix, 2..10 characters of [a-z0-9-] (Linux interface names are <= 15) */
  prefix?: string;
  /** first two octets of a private 10.x.0.0/16, e.g. "10.213" */
  net?: string;
  stateDir?: string;
  /**
   * How often the LB health-checks each node, in ms, 100..60000 (default 1000, or LAB_HEALTH_CHECK_MS).
   * Google's checks run every 5-15 s; the lab's are faster so a fault shows within seconds, and a
   * test lab's faster still (a fault shows after unhealthyThreshold = 2 failed checks).
   */
  healthCheckIntervalMs?: number;
  /**
   * How many nodes, MIN_LAB_NODES..MAX_LAB_NODES (default 3, the article's picture). The pods stay
   * two, on node-1 and node-3, whatever the count: every other node runs none and still forwards.
   */
  nodes?: number;
}

export const DEFAULT_PREFIX = "gip-lab-";
export const DEFAULT_NET = "10.213";
export const DEFAULT_HEALTH_CHECK_MS = 1000;

export const DEFAULT_LAB_NODES = 3;
/** node-1 and node-3 hold the pods, so fewer nodes cannot draw the article's picture */
export const MIN_LAB_NODES = 3;
/** enough to measure an SSH fan-out; the address plan would hold 63 (pod ranges end at <net>.127.0/24) */
export const MAX_LAB_NODES = 50;
/** pod-1 on node-1, pod-2 on node-3: node-2 runs no pod and still forwards (the article's picture) */
const POD_PLACEMENT: { pod: string; node: number }[] = [
  { pod: "pod-1", node: 1 },
  { pod: "pod-2", node: 3 },
];

export function labTopology(options: TopologyOptions = {}): LabTopology {
  const prefix = options.prefix ?? process.env.LAB_PREFIX ?? DEFAULT_PREFIX;
  const net = options.net ?? process.env.LAB_NET ?? DEFAULT_NET;
  const interval = options.healthCheckIntervalMs ?? (process.env.LAB_HEALTH_CHECK_MS ? Number(process.env.LAB_HEALTH_CHECK_MS) : DEFAULT_HEALTH_CHECK_MS);
  // All checked before any is reported: one bad value never hides the other.
  const nodeCount = options.nodes ?? DEFAULT_LAB_NODES;
  const problems = [prefixProblem(prefix), netProblem(net), intervalProblem(interval), nodeCountProblem(nodeCount)].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  const stateDir = options.stateDir ?? `/run/gke-ingress-path/${prefix.replace(/-+$/, "")}`;

  const nodes: LabNode[] = [];
  for (let k = 1; k <= nodeCount; k++) {
    nodes.push({
      name: `node-${k}`,
      namespace: `${prefix}node-${k}`,
      internalIp: `${net}.0.${10 + k}`,
      externalIp: `${net}.250.${10 + k}`,
      podCidr: `${net}.${64 + k}.0/24`,
      podGateway: `${net}.${64 + k}.1`,
      managementVeth: `${prefix}m${k}`,
    });
  }
  const pods: LabPod[] = POD_PLACEMENT.map(({ pod, node }) => ({
    name: pod,
    namespace: `${prefix}${pod}`,
    nodeName: `node-${node}`,
    ip: `${net}.${64 + node}.2`,
  }));

  return {
    prefix,
    net,
    stateDir,
    client: { namespace: `${prefix}client`, ip: `${net}.200.2` },
    lb: {
      namespace: `${prefix}lb`,
      publicIp: `${net}.200.1`,
      publicPort: 80,
      vpcIp: `${net}.0.1`,
      forwardingRule: "lab-fr-hello",
      targetProxy: "lab-tp-hello",
      urlMap: "lab-um-hello",
      backendService: "lab-be-30080",
      healthCheck: "lab-hc-30080",
      instanceGroup: "k8s-ig--lab",
      firewallRule: "lab-allow-lb-health-checks",
      zone: "lab-zone-a",
      healthCheckIntervalMs: interval,
    },
    nodes,
    pods,
    management: { bridge: `${prefix}br`, gatewayIp: `${net}.250.1`, cidr: `${net}.250.0/24` },
    vpcCidr: `${net}.0.0/24`,
    clusterCidr: `${net}.64.0/18`,
    serviceCidr: `${net}.128.0/20`,
    publicCidr: `${net}.200.0/24`,
    service: {
      namespace: "default",
      name: "hello",
      clusterIP: `${net}.128.10`,
      port: 80,
      podPort: 8080,
      nodePort: 30080,
      selector: { app: "hello" },
    },
    deploymentName: "hello",
    ingressName: "hello",
    networkTag: `${prefix}node`,
    sshUser: "root",
    sshPort: 22,
  };
}

/** Every CIDR the lab occupies; `lab up` refuses to start when one overlaps a host address or route. */
export function labCidrs(t: LabTopology): string[] {
  return [t.vpcCidr, t.clusterCidr, t.serviceCidr, t.publicCidr, t.management.cidr];
}

/** All namespaces of one lab, in creation order. */
export function labNamespaces(t: LabTopology): string[] {
  return [t.client.namespace, t.lb.namespace, ...t.nodes.map((n) => n.namespace), ...t.pods.map((p) => p.namespace)];
}

export function nodeByName(t: LabTopology, name: string): LabNode {
  const node = t.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`lab topology has no node "${name}"`);
  return node;
}

export function labUrl(t: LabTopology): string {
  return `http://${t.lb.publicIp}:${t.lb.publicPort}/`;
}

/** Why a node count (a number, or the text of `--nodes`) is not usable (undefined: it is), in the lab CLI's words. */
export function nodeCountProblem(given: number | string): string | undefined {
  const count = typeof given === "number" ? given : /^\d+$/.test(given) ? Number(given) : Number.NaN;
  if (Number.isInteger(count) && count >= MIN_LAB_NODES && count <= MAX_LAB_NODES) return undefined;
  return `--nodes must be a whole number ${MIN_LAB_NODES}..${MAX_LAB_NODES} (the pods run on node-1 and node-3), got "${given}"`;
}

function intervalProblem(ms: number): string | undefined {
  if (Number.isInteger(ms) && ms >= 100 && ms <= 60_000) return undefined;
  return `lab health-check interval ${ms} ms is not usable: give a whole number of milliseconds, 100..60000 (LAB_HEALTH_CHECK_MS)`;
}

function prefixProblem(prefix: string): string | undefined {
  if (/^[a-z][a-z0-9-]{1,9}$/.test(prefix)) return undefined;
  return (
    `lab prefix "${prefix}" is not usable: use 2..10 characters of a-z, 0-9 and "-", starting with a letter ` +
    `(root-namespace interface names are built from it and Linux allows 15 characters)`
  );
}

function netProblem(net: string): string | undefined {
  const m = /^10\.(\d{1,3})$/.exec(net);
  if (m && Number(m[1]) <= 255) return undefined;
  return `lab net "${net}" is not usable: give the first two octets of a private 10.x.0.0/16, e.g. "10.213"`;
}
