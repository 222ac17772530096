// One realistic GKE Ingress setup, as the Compute and Kubernetes APIs would show it after
// `pulumi up` with backendMode instance-group: the article's path. Names follow the GKE ingress
// controller (ingress-gce pkg/utils/namer): v2 frontends k8s2-{fr,tp,um}-<cluster hash8>-<ns>-<name>-<hash8>,
// instance-group backends k8s-be-<nodePort>--<ingress uid>, k8s-ig--<uid>, k8s-fw-l7--<uid>,
// NEGs k8s1-<uid8>-<ns>-<svc>-<port>-<hash8>. Tests build a fresh world and derive scenarios from it.
import type { compute_v1 } from "@googleapis/compute";
import type {
  CoreV1Event,
  V1DaemonSet,
  V1EndpointSlice,
  V1Ingress,
  V1Node,
  V1Pod,
  V1Service,
} from "@kubernetes/client-node";

type ForwardingRule = compute_v1.Schema$ForwardingRule;
type TargetHttpProxy = compute_v1.Schema$TargetHttpProxy;
type TargetHttpsProxy = compute_v1.Schema$TargetHttpsProxy;
type UrlMap = compute_v1.Schema$UrlMap;
type BackendService = compute_v1.Schema$BackendService;
type HealthCheck = compute_v1.Schema$HealthCheck;
type InstanceGroup = compute_v1.Schema$InstanceGroup;
type Instance = compute_v1.Schema$Instance;
type Firewall = compute_v1.Schema$Firewall;
type NetworkEndpointGroup = compute_v1.Schema$NetworkEndpointGroup;
type HealthStatus = compute_v1.Schema$HealthStatus;
type GuestAttributesEntry = compute_v1.Schema$GuestAttributesEntry;

export interface ComputeWorld {
  project: string;
  forwardingRules: ForwardingRule[];
  targetHttpProxies: TargetHttpProxy[];
  targetHttpsProxies: TargetHttpsProxy[];
  urlMaps: UrlMap[];
  backendServices: BackendService[];
  healthChecks: HealthCheck[];
  /** legacy compute#httpHealthCheck resources (clusters of before 2019) */
  httpHealthChecks?: compute_v1.Schema$HttpHealthCheck[];
  instanceGroups: InstanceGroup[];
  /** regional subnetworks (the proxy-only subnet of regional classes) */
  subnetworks?: compute_v1.Schema$Subnetwork[];
  /** instance group selfLink -> member instance names */
  instanceGroupMembers: Record<string, string[]>;
  instances: Instance[];
  firewalls: Firewall[];
  networkEndpointGroups: NetworkEndpointGroup[];
  /** NEG selfLink -> its endpoints, with the healths listNetworkEndpoints shows under healthStatus SHOW */
  networkEndpoints?: Record<string, compute_v1.Schema$NetworkEndpointWithHealthStatus[]>;
  /** backend service name -> group selfLink -> health entries */
  health: Record<string, Record<string, HealthStatus[]>>;
  /** instance name -> guest attributes (namespace "hostkeys") */
  guestAttributes: Record<string, GuestAttributesEntry[]>;
  /**
   * instance name -> what it wrote on serial port 1 since boot; droppedBytes: how much of the
   * beginning the serial buffer no longer holds. An instance left out answers with empty output.
   */
  serialPorts?: Record<string, { contents: string; droppedBytes?: number }>;
}

export interface KubeWorld {
  services: V1Service[];
  endpointSlices: V1EndpointSlice[];
  pods: V1Pod[];
  nodes: V1Node[];
  ingresses: V1Ingress[];
  daemonSets: V1DaemonSet[];
  /** core/v1 Events (the controller's words about the Ingress and the Service) */
  events?: CoreV1Event[];
  /** networking.gke.io/v1beta1 ServiceNetworkEndpointGroup objects (no typed client: ingress-gce's CRD shape) */
  svcNegs?: SvcNeg[];
}

/** ingress-gce's ServiceNetworkEndpointGroup (pkg/apis/svcneg/v1beta1): spec is empty, status holds the NEGs and conditions. */
export interface SvcNeg {
  apiVersion: "networking.gke.io/v1beta1";
  kind: "ServiceNetworkEndpointGroup";
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; blockOwnerDeletion?: boolean; controller?: boolean }[]; finalizers?: string[] };
  spec: Record<string, never>;
  status?: {
    conditions?: { type: "Initialized" | "Synced"; status: "True" | "False" | "Unknown"; reason?: string; message?: string; lastTransitionTime?: string; observedGeneration?: number }[];
    networkEndpointGroups?: { id?: string; networkEndpointType?: string; selfLink?: string }[];
    lastSyncTime?: string;
  };
}

export interface GkeWorld {
  token: string;
  project: string;
  zone: string;
  clusterName: string;
  /** kube-system/ingress-uid "uid": suffix of the v1 names */
  ingressUid: string;
  /** the v2 frontend names' 8-char cluster hash */
  frontendUid: string;
  namespace: string;
  serviceName: string;
  ingressName: string;
  deploymentName: string;
  nodePort: number;
  servicePort: number;
  podPort: number;
  loadBalancerIp: string;
  nodeNames: string[];
  names: {
    forwardingRule: string;
    targetProxy: string;
    urlMap: string;
    backendService: string;
    defaultHttpBackend: string;
    instanceGroup: string;
    firewall: string;
  };
  compute: ComputeWorld;
  kube: KubeWorld;
}

const base = "https://www.googleapis.com/compute/v1";

export function selfLink(project: string, path: string): string {
  return `${base}/projects/${project}/${path}`;
}

/** A stable base64 blob standing for a public key (content is irrelevant to the parser). */
function fakeKey(seed: string, bytes: number): string {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (seed.charCodeAt(i % seed.length) * (i + 7)) & 0xff;
  return out.toString("base64");
}

/**
 * What a test can set to lay the world over machines it really runs (e.g. network namespaces with
 * sshd and kube-proxy rules); everything left out keeps the default world's value.
 */
export interface WorldParams {
  /** the node VMs (exactly 3: the instance group, health and pod placement assume 3) */
  nodes?: {
    name: string;
    internalIp: string;
    externalIp: string;
    podCidr?: string;
    /** the node's SSH host public keys ("ssh-ed25519 AAAA..."), published as guest attributes */
    hostKeys?: string[];
  }[];
  /** the Service's pods (default: 2, on the first and the third node) */
  pods?: { name: string; ip: string; nodeName: string }[];
  clusterIP?: string;
  nodePort?: number;
  servicePort?: number;
  podPort?: number;
  /** the Service port's name (default "http"); null = an unnamed port */
  servicePortName?: string | null;
  /**
   * A regional cluster (the stack's `location` a region): one zone per node, and, as the
   * controller makes them, one unmanaged instance group k8s-ig--<uid> per zone, all with the same name.
   */
  zones?: string[];
}

/** Guest attributes "hostkeys/<type>" = base64 blob, as the guest agent publishes them. */
function hostKeyAttributes(keys: string[]): GuestAttributesEntry[] {
  return keys.map((line) => {
    const [type, blob] = line.trim().split(/\s+/);
    if (!type || !blob) throw new Error(`host key "${line}" is not "type base64"`);
    return { namespace: "hostkeys", key: type, value: blob };
  });
}

export function buildWorld(params: WorldParams = {}): GkeWorld {
  if (params.nodes && params.nodes.length !== 3) throw new Error(`buildWorld: give 3 nodes, not ${params.nodes.length}`);
  const project = "ingress-path-demo";
  const zones = params.zones ?? ["us-central1-a"];
  if (params.zones && params.zones.length !== 3) throw new Error(`buildWorld: give 3 zones (one per node), not ${params.zones.length}`);
  const zone = zones[0];
  const clusterName = "ingress-path";
  const ingressUid = "5d2c8f3a91b04e76";
  const frontendUid = "tq8v0zk3";
  const namespace = "default";
  const serviceName = "hello";
  const ingressName = "hello";
  const nodePort = params.nodePort ?? 30080;
  const defaultBackendNodePort = 31876;
  const servicePort = params.servicePort ?? 80;
  const podPort = params.podPort ?? 8080;
  const portName = params.servicePortName === undefined ? "http" : (params.servicePortName ?? undefined);
  const loadBalancerIp = "34.117.80.15";
  const poolHash = "7c9e1b2a";
  const nodeTag = `gke-${clusterName}-${poolHash}-node`;
  const nodeNames = params.nodes?.map((n) => n.name) ?? ["4mzq", "8hkd", "x2lp"].map((s) => `gke-${clusterName}-default-pool-${poolHash}-${s}`);
  const lbName = `${frontendUid}-${namespace}-${ingressName}-4wlhd1q9`;
  const names = {
    forwardingRule: `k8s2-fr-${lbName}`,
    targetProxy: `k8s2-tp-${lbName}`,
    urlMap: `k8s2-um-${lbName}`,
    backendService: `k8s-be-${nodePort}--${ingressUid}`,
    defaultHttpBackend: `k8s-be-${defaultBackendNodePort}--${ingressUid}`,
    instanceGroup: `k8s-ig--${ingressUid}`,
    firewall: `k8s-fw-l7--${ingressUid}`,
  };
  /** node i's zone */
  const zoneOfNode = (i: number) => zones[Math.min(i, zones.length - 1)];
  const zonePathOf = (i: number) => `zones/${zoneOfNode(i)}`;
  const igLinkOf = (z: string) => selfLink(project, `zones/${z}/instanceGroups/${names.instanceGroup}`);
  const igLinks = zones.map(igLinkOf);
  const network = selfLink(project, "global/networks/ingress-path-vpc");
  const internalIps = params.nodes?.map((n) => n.internalIp) ?? ["10.128.0.11", "10.128.0.12", "10.128.0.13"];
  const externalIps = params.nodes?.map((n) => n.externalIp) ?? ["34.123.10.21", "34.123.10.22", "34.123.10.23"];

  const healthCheckFor = (name: string, port: number): HealthCheck => ({
    kind: "compute#healthCheck",
    name,
    selfLink: selfLink(project, `global/healthChecks/${name}`),
    type: "HTTP",
    checkIntervalSec: 15,
    timeoutSec: 15,
    healthyThreshold: 1,
    unhealthyThreshold: 2,
    httpHealthCheck: { port, requestPath: name === names.backendService ? "/" : "/healthz", proxyHeader: "NONE" },
    description: '{"kubernetes.io/service-name":"default/hello","kubernetes.io/service-port":"80"}',
  });
  const backendServiceFor = (name: string, port: number): BackendService => ({
    kind: "compute#backendService",
    name,
    selfLink: selfLink(project, `global/backendServices/${name}`),
    protocol: "HTTP",
    port,
    portName: `port${port}`,
    timeoutSec: 30,
    loadBalancingScheme: "EXTERNAL",
    healthChecks: [selfLink(project, `global/healthChecks/${name}`)],
    backends: igLinks.map((group) => ({ group, balancingMode: "RATE", maxRatePerInstance: 1, capacityScaler: 1 })),
  });

  const compute: ComputeWorld = {
    project,
    forwardingRules: [
      {
        kind: "compute#forwardingRule",
        name: names.forwardingRule,
        selfLink: selfLink(project, `global/forwardingRules/${names.forwardingRule}`),
        IPAddress: loadBalancerIp,
        IPProtocol: "TCP",
        portRange: "80-80",
        target: selfLink(project, `global/targetHttpProxies/${names.targetProxy}`),
        loadBalancingScheme: "EXTERNAL",
        networkTier: "PREMIUM",
        description: '{"kubernetes.io/ingress-name": "default/hello"}',
      },
    ],
    targetHttpProxies: [
      {
        kind: "compute#targetHttpProxy",
        name: names.targetProxy,
        selfLink: selfLink(project, `global/targetHttpProxies/${names.targetProxy}`),
        urlMap: selfLink(project, `global/urlMaps/${names.urlMap}`),
      },
    ],
    targetHttpsProxies: [],
    urlMaps: [
      {
        kind: "compute#urlMap",
        name: names.urlMap,
        selfLink: selfLink(project, `global/urlMaps/${names.urlMap}`),
        defaultService: selfLink(project, `global/backendServices/${names.backendService}`),
        hostRules: [],
        pathMatchers: [],
      },
    ],
    backendServices: [backendServiceFor(names.backendService, nodePort), backendServiceFor(names.defaultHttpBackend, defaultBackendNodePort)],
    healthChecks: [healthCheckFor(names.backendService, nodePort), healthCheckFor(names.defaultHttpBackend, defaultBackendNodePort)],
    instanceGroups: zones.map((z) => ({
      kind: "compute#instanceGroup",
      name: names.instanceGroup,
      selfLink: igLinkOf(z),
      zone: selfLink(project, `zones/${z}`),
      network,
      size: nodeNames.filter((_, i) => zoneOfNode(i) === z).length,
      namedPorts: [
        { name: `port${nodePort}`, port: nodePort },
        { name: `port${defaultBackendNodePort}`, port: defaultBackendNodePort },
      ],
    })),
    instanceGroupMembers: Object.fromEntries(zones.map((z) => [igLinkOf(z), nodeNames.filter((_, i) => zoneOfNode(i) === z)])),
    instances: nodeNames.map((name, i) => ({
      kind: "compute#instance",
      name,
      selfLink: selfLink(project, `${zonePathOf(i)}/instances/${name}`),
      zone: selfLink(project, zonePathOf(i)),
      status: "RUNNING",
      machineType: selfLink(project, `${zonePathOf(i)}/machineTypes/e2-medium`),
      tags: { items: [nodeTag] },
      serviceAccounts: [{ email: `gke-nodes@${project}.iam.gserviceaccount.com`, scopes: ["https://www.googleapis.com/auth/cloud-platform"] }],
      metadata: { items: [{ key: "enable-guest-attributes", value: "TRUE" }] },
      networkInterfaces: [
        {
          name: "nic0",
          network,
          networkIP: internalIps[i],
          accessConfigs: [{ type: "ONE_TO_ONE_NAT", name: "external-nat", natIP: externalIps[i], networkTier: "PREMIUM" }],
        },
      ],
    })),
    firewalls: [
      {
        kind: "compute#firewall",
        name: names.firewall,
        selfLink: selfLink(project, `global/firewalls/${names.firewall}`),
        network,
        direction: "INGRESS",
        priority: 1000,
        sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
        targetTags: [nodeTag],
        allowed: [{ IPProtocol: "tcp", ports: [String(nodePort), String(defaultBackendNodePort)] }],
        disabled: false,
      },
      {
        kind: "compute#firewall",
        name: `gke-${clusterName}-${poolHash}-ssh`,
        network,
        direction: "INGRESS",
        priority: 1000,
        sourceRanges: ["35.235.240.0/20"],
        targetTags: [nodeTag],
        allowed: [{ IPProtocol: "tcp", ports: ["22"] }],
        disabled: false,
      },
      {
        kind: "compute#firewall",
        name: `gke-${clusterName}-${poolHash}-all`,
        network,
        direction: "INGRESS",
        priority: 1000,
        sourceRanges: ["10.4.0.0/14"],
        targetTags: [nodeTag],
        allowed: [{ IPProtocol: "tcp" }, { IPProtocol: "udp" }, { IPProtocol: "icmp" }],
        disabled: false,
      },
    ],
    networkEndpointGroups: [],
    health: Object.fromEntries(
      [
        [names.backendService, nodePort],
        [names.defaultHttpBackend, defaultBackendNodePort],
      ].map(([service, port]) => [
        service,
        Object.fromEntries(
          zones.map((z) => [
            igLinkOf(z),
            nodeNames
              .map((name, i) => ({ name, i }))
              .filter(({ i }) => zoneOfNode(i) === z)
              .map(({ name, i }) => ({
                instance: selfLink(project, `${zonePathOf(i)}/instances/${name}`),
                ipAddress: internalIps[i],
                port: port as number,
                healthState: "HEALTHY",
              })),
          ]),
        ),
      ]),
    ),
    guestAttributes: Object.fromEntries(
      nodeNames.map((name, i) => [
        name,
        params.nodes?.[i]?.hostKeys ? hostKeyAttributes(params.nodes[i].hostKeys) : [
          { namespace: "hostkeys", key: "ssh-ed25519", value: `AAAAC3NzaC1lZDI1NTE5AAAAI${fakeKey(name, 32)}` },
          { namespace: "hostkeys", key: "ecdsa-sha2-nistp256", value: `AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY${fakeKey(name + "ec", 80)}` },
        ],
      ]),
    ),
  };

  const podIps = params.pods?.map((p) => p.ip) ?? ["10.4.0.5", "10.4.2.7"];
  const podNodes = params.pods?.map((p) => p.nodeName) ?? [nodeNames[0], nodeNames[2]];
  const podNames = params.pods?.map((p) => p.name) ?? ["hello-6d5f7c8b9-q2w7x", "hello-6d5f7c8b9-zr4kp"];
  const clusterIP = params.clusterIP ?? "10.8.12.34";
  const serviceUid = "0b6f2c51-8e3d-4a7b-9c15-2f4e6a8d1c37";

  const kube: KubeWorld = {
    services: [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: serviceName,
          namespace,
          uid: serviceUid,
          annotations: { "cloud.google.com/neg": '{"ingress": false}' },
        },
        spec: {
          type: "NodePort",
          clusterIP,
          clusterIPs: [clusterIP],
          selector: { app: "hello" },
          ports: [{ name: portName, protocol: "TCP", port: servicePort, targetPort: podPort, nodePort }],
          externalTrafficPolicy: "Cluster",
          sessionAffinity: "None",
        },
        status: { loadBalancer: {} },
      },
    ],
    endpointSlices: [
      {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        addressType: "IPv4",
        metadata: {
          name: "hello-8xk2d",
          namespace,
          labels: { "kubernetes.io/service-name": serviceName, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
        },
        endpoints: podIps.map((ip, i) => ({
          addresses: [ip],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: podNodes[i],
          zone: zoneOfNode(nodeNames.indexOf(podNodes[i])),
          targetRef: { kind: "Pod", name: podNames[i], namespace },
        })),
        ports: [{ name: portName ?? "", port: podPort, protocol: "TCP" }],
      },
    ],
    pods: podNames.map((name, i) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, labels: { app: "hello", "pod-template-hash": "6d5f7c8b9" } },
      spec: {
        nodeName: podNodes[i],
        containers: [
          {
            name: "hello",
            image: "us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0",
            ports: [{ name: "http", containerPort: podPort, protocol: "TCP" }],
            readinessProbe: { httpGet: { path: "/", port: podPort, scheme: "HTTP" }, periodSeconds: 5 },
          },
        ],
      },
      status: {
        phase: "Running",
        podIP: podIps[i],
        podIPs: [{ ip: podIps[i] }],
        conditions: [
          { type: "Ready", status: "True" },
          { type: "ContainersReady", status: "True" },
        ],
      },
    })),
    nodes: nodeNames.map((name, i) => ({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { "cloud.google.com/gke-nodepool": "default-pool", "topology.kubernetes.io/zone": zoneOfNode(i) } },
      spec: { providerID: `gce://${project}/${zoneOfNode(i)}/${name}`, podCIDR: params.nodes?.[i]?.podCidr ?? `10.4.${i}.0/24` },
      status: {
        addresses: [
          { type: "InternalIP", address: internalIps[i] },
          { type: "ExternalIP", address: externalIps[i] },
          { type: "Hostname", address: name },
        ],
      },
    })),
    ingresses: [
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: {
          name: ingressName,
          namespace,
          annotations: {
            "kubernetes.io/ingress.class": "gce",
            "ingress.kubernetes.io/forwarding-rule": names.forwardingRule,
            "ingress.kubernetes.io/target-proxy": names.targetProxy,
            "ingress.kubernetes.io/url-map": names.urlMap,
            "ingress.kubernetes.io/backends": JSON.stringify({ [names.backendService]: "HEALTHY" }),
          },
          finalizers: ["networking.gke.io/ingress-finalizer-V2"],
        },
        spec: { defaultBackend: { service: { name: serviceName, port: { number: servicePort } } } },
        status: { loadBalancer: { ingress: [{ ip: loadBalancerIp }] } },
      },
    ],
    // what ingress-gce's controller records on a healthy Ingress (pkg/controller/controller.go)
    events: [
      ingressEvent(namespace, ingressName, "Normal", "Sync", "Scheduled for sync", "2026-11-30T09:12:03Z"),
      ingressEvent(namespace, ingressName, "Normal", "IPChanged", `IP is now ${loadBalancerIp}`, "2026-11-30T09:14:41Z"),
    ],
    daemonSets: [
      { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "fluentbit-gke", namespace: "kube-system" } },
      { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "gke-metrics-agent", namespace: "kube-system" } },
      { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "pdcsi-node", namespace: "kube-system" } },
    ],
  };
  // kube-proxy runs as a static pod per node on the legacy datapath
  for (const node of nodeNames) {
    kube.pods.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `kube-proxy-${node}`, namespace: "kube-system", labels: { component: "kube-proxy", tier: "node" } },
      spec: { nodeName: node, hostNetwork: true, containers: [{ name: "kube-proxy", image: "gke.gcr.io/kube-proxy-amd64:v1.33.5-gke.1000" }] },
      status: { phase: "Running", podIP: internalIps[nodeNames.indexOf(node)], conditions: [{ type: "Ready", status: "True" }] },
    });
  }

  return {
    token: "ya29.standin-token-7f3b",
    project,
    zone,
    clusterName,
    ingressUid,
    frontendUid,
    namespace,
    serviceName,
    ingressName,
    deploymentName: "hello",
    nodePort,
    servicePort,
    podPort,
    loadBalancerIp,
    nodeNames,
    names,
    compute,
    kube,
  };
}

/** A core/v1 Event about an Ingress, as the API server lists it (source component: loadbalancer-controller). */
export function ingressEvent(namespace: string, name: string, type: "Normal" | "Warning", reason: string, message: string, at: string, kind = "Ingress"): CoreV1Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${name}.${Date.parse(at).toString(16)}`, namespace },
    involvedObject: { kind, namespace, name, apiVersion: kind === "Ingress" ? "networking.k8s.io/v1" : "v1" },
    type,
    reason,
    message,
    count: 1,
    firstTimestamp: new Date(at),
    lastTimestamp: new Date(at),
    source: { component: "loadbalancer-controller" },
    reportingComponent: "loadbalancer-controller",
  };
}

export function ingressAnnotations(world: GkeWorld): Record<string, string> {
  return { ...(world.kube.ingresses[0].metadata?.annotations ?? {}) };
}

// ---------------------------------------------------------------- scenarios derived from the world

/** Right after `pulumi up`: the Ingress exists, the controller has not annotated it yet. */
export function withLoadBalancerNotProvisioned(world: GkeWorld): GkeWorld {
  const annotations = world.kube.ingresses[0].metadata!.annotations!;
  for (const key of Object.keys(annotations)) if (key.startsWith("ingress.kubernetes.io/")) delete annotations[key];
  world.kube.ingresses[0].status = { loadBalancer: {} };
  world.compute.forwardingRules = [];
  world.compute.targetHttpProxies = [];
  world.compute.urlMaps = [];
  return world;
}

/** The health check fails on one node (e.g. its n-port rules are missing). */
export function withUnhealthyNode(world: GkeWorld, nodeIndex: number): GkeWorld {
  for (const groups of Object.values(world.compute.health)) {
    for (const entries of Object.values(groups)) entries[nodeIndex].healthState = "UNHEALTHY";
  }
  return world;
}

/**
 * backendMode neg, as GKE shows it once the NEG controller has synced: one GCE_VM_IP_PORT NEG per
 * zone with a node (named in the Service's neg-status), the pods as endpoints p-ip:p-port on their
 * node VMs, HEALTHY; a NEG backend service on the Service's path; the L7 firewall rule admitting the
 * health-check ranges to p-port on the nodes' tag; the pods' readiness gates True by the LB's word;
 * the svcneg objects Initialized and Synced.
 */
export function withNegBackend(world: GkeWorld): GkeWorld {
  const { project, ingressUid, namespace, serviceName, servicePort, podPort } = world;
  const zones = [...new Set(world.compute.instances.map((i) => i.zone!.slice(i.zone!.lastIndexOf("/") + 1)))];
  const negName = `k8s1-${ingressUid.slice(0, 8)}-${namespace}-${serviceName}-${servicePort}-9f2c1d7e`;
  const negLinkOf = (z: string) => selfLink(project, `zones/${z}/networkEndpointGroups/${negName}`);
  const bsLink = selfLink(project, `global/backendServices/${negName}`);
  const hcLink = selfLink(project, `global/healthChecks/${negName}`);
  const pods = world.kube.pods.filter((p) => p.metadata?.labels?.app === "hello");
  const zoneOfNode = (node: string) => {
    const vm = world.compute.instances.find((i) => i.name === node);
    return vm?.zone ? vm.zone.slice(vm.zone.lastIndexOf("/") + 1) : zones[0];
  };
  world.compute.networkEndpoints ??= {};
  for (const z of zones) {
    const inZone = pods.filter((p) => zoneOfNode(p.spec!.nodeName!) === z);
    world.compute.networkEndpointGroups.push({
      kind: "compute#networkEndpointGroup",
      name: negName,
      selfLink: negLinkOf(z),
      zone: selfLink(project, `zones/${z}`),
      networkEndpointType: "GCE_VM_IP_PORT",
      defaultPort: podPort,
      size: inZone.length,
      network: selfLink(project, "global/networks/ingress-path-vpc"),
      description: JSON.stringify({ "cluster-uid": ingressUid, namespace, "service-name": serviceName, port: String(servicePort) }),
    });
    world.compute.networkEndpoints[negLinkOf(z)] = inZone.map((pod) => ({
      networkEndpoint: { ipAddress: pod.status!.podIP!, port: podPort, instance: pod.spec!.nodeName! },
      healths: [{ backendService: { backendService: bsLink }, healthCheck: { healthCheck: hcLink }, healthState: "HEALTHY" }],
    }));
  }
  world.compute.healthChecks.push({
    kind: "compute#healthCheck",
    name: negName,
    selfLink: hcLink,
    type: "HTTP",
    checkIntervalSec: 15,
    timeoutSec: 15,
    healthyThreshold: 1,
    unhealthyThreshold: 2,
    httpHealthCheck: { portSpecification: "USE_SERVING_PORT", requestPath: "/", proxyHeader: "NONE" },
    description: JSON.stringify({ "kubernetes.io/service-name": `${namespace}/${serviceName}`, "kubernetes.io/service-port": String(servicePort) }),
  });
  world.compute.backendServices.push({
    kind: "compute#backendService",
    name: negName,
    selfLink: bsLink,
    protocol: "HTTP",
    port: 80,
    portName: "port0",
    timeoutSec: 30,
    loadBalancingScheme: "EXTERNAL",
    healthChecks: [hcLink],
    backends: zones.map((z) => ({ group: negLinkOf(z), balancingMode: "RATE", maxRatePerEndpoint: 1, capacityScaler: 1 })),
    description: JSON.stringify({ "kubernetes.io/service-name": `${namespace}/${serviceName}`, "kubernetes.io/service-port": String(servicePort) }),
  });
  world.compute.health[negName] = Object.fromEntries(
    zones.map((z) => [
      negLinkOf(z),
      pods
        .filter((p) => zoneOfNode(p.spec!.nodeName!) === z)
        .map((pod) => ({
          instance: selfLink(project, `zones/${z}/instances/${pod.spec!.nodeName}`),
          ipAddress: pod.status!.podIP,
          port: podPort,
          healthState: "HEALTHY",
        })),
    ]),
  );
  world.compute.urlMaps[0].defaultService = bsLink;
  // ingress-gce's L7 firewall rule admits the NEG's target port too (pkg/firewalls)
  const fw = world.compute.firewalls.find((f) => f.name === world.names.firewall)!;
  fw.allowed = [{ IPProtocol: "tcp", ports: [...(fw.allowed?.[0]?.ports ?? []), String(podPort)] }];
  const annotations = world.kube.ingresses[0].metadata!.annotations!;
  annotations["ingress.kubernetes.io/backends"] = JSON.stringify({ [negName]: "HEALTHY" });
  world.kube.services[0].metadata!.annotations = {
    "cloud.google.com/neg": '{"ingress": true}',
    "cloud.google.com/neg-status": JSON.stringify({ network_endpoint_groups: { [String(servicePort)]: negName }, zones }),
  };
  for (const pod of pods) {
    pod.spec!.readinessGates = [{ conditionType: "cloud.google.com/load-balancer-neg-ready" }];
    pod.status!.conditions = [
      ...(pod.status!.conditions ?? []),
      { type: "cloud.google.com/load-balancer-neg-ready", status: "True", reason: "LoadBalancerNegReady", lastTransitionTime: new Date("2026-11-30T09:15:02Z") },
    ];
  }
  world.kube.svcNegs = [
    {
      apiVersion: "networking.gke.io/v1beta1",
      kind: "ServiceNetworkEndpointGroup",
      metadata: {
        name: negName,
        namespace,
        labels: { "networking.gke.io/managed-by": "neg-controller", "networking.gke.io/service-name": serviceName, "networking.gke.io/service-port": String(servicePort) },
        ownerReferences: [{ apiVersion: "v1", kind: "Service", name: serviceName, uid: world.kube.services[0].metadata!.uid!, blockOwnerDeletion: false, controller: true }],
        finalizers: ["networking.gke.io/neg-finalizer"],
      },
      spec: {},
      status: {
        conditions: [
          { type: "Initialized", status: "True", reason: "NegInitializationSuccessful", lastTransitionTime: "2026-11-30T09:12:40Z", observedGeneration: 1 },
          { type: "Synced", status: "True", reason: "NegSyncSuccessful", lastTransitionTime: "2026-11-30T09:14:55Z", observedGeneration: 1 },
        ],
        networkEndpointGroups: zones.map((z, i) => ({ id: String(7294810365512 + i), networkEndpointType: "GCE_VM_IP_PORT", selfLink: negLinkOf(z) })),
        lastSyncTime: "2026-11-30T09:14:55Z",
      },
    },
  ];
  return world;
}

/** A cluster created with Dataplane V2: anetd (Cilium) DaemonSet, no kube-proxy pods. */
export function withDataplaneV2(world: GkeWorld): GkeWorld {
  world.kube.pods = world.kube.pods.filter((p) => p.metadata?.labels?.component !== "kube-proxy");
  world.kube.daemonSets.push({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "anetd", namespace: "kube-system", labels: { "k8s-app": "cilium" } },
  });
  return world;
}
