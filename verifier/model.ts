// One typed model of the article's path. Sources (GCP, Kubernetes, SSH, lab) fill it; checks and
// reports only read it and never touch the network. Every field a source could not read stays
// undefined and the reason goes to `problems`, so one failure never hides the other results.

/** Where a fact came from, shown to the reader next to a verdict. */
export interface Evidence {
  /** e.g. "compute forwardingRules/k8s2-fr-...", "node gke-...-abcd: iptables-save -t nat" */
  source: string;
  /** the API field or the rule line, verbatim where possible */
  detail: string;
  /** structured fields beside the prose, where they apply (report JSON, schemaVersion 2) */
  node?: string;
  /** a Google Cloud resource (backend service, instance group, firewall rule, ...) */
  resource?: string;
  backend?: string;
  /** 1-based line in the dump the rule was read from */
  line?: number;
  /** the rule, verbatim */
  rule?: string;
}

/** A source that failed to read something: what, why, and how to fix it. */
export interface Problem {
  /** "snapshot": what a snapshot folder lacks or holds unreadable (its node files) */
  source: "gcp" | "kubernetes" | "ssh" | "snapshot" | "lab" | "requests" | "input";
  /** node name, resource name, ... */
  subject?: string;
  message: string;
  hint?: string;
  /**
   * How a claim refers to this problem, without its subject ("no node files in the folder"): the
   * message and hint are said once, in the report's problems, and a claim that many nodes' problems
   * leave undecided names the nodes once next to this.
   */
  brief?: string;
}

// ---------------------------------------------------------------- Google Cloud side

export interface ForwardingRuleModel {
  name: string;
  ipAddress: string;
  ipProtocol: string;
  portRange?: string;
  /** full URL or name of the target proxy */
  target: string;
  loadBalancingScheme?: string;
  global: boolean;
  /** the region of a regional forwarding rule (gce-internal, gce-regional-external classes) */
  region?: string;
}

export interface TargetProxyModel {
  name: string;
  kind: "http" | "https";
  urlMap: string;
  region?: string;
}

export interface UrlMapModel {
  name: string;
  /** name of the default backend service */
  defaultService?: string;
  hostRuleCount: number;
  pathMatcherCount: number;
  region?: string;
  /** hostRules[]: which path matcher serves which hosts ("*" = any host) */
  hostRules?: { hosts: string[]; pathMatcher: string }[];
  /** pathMatchers[]: path rules (paths -> backend service name) and the matcher's own default */
  pathMatchers?: { name: string; defaultService?: string; pathRules: { paths: string[]; service?: string }[] }[];
  /** a redirect-only URL map (FrontendConfig redirectToHttps: ingress.kubernetes.io/redirect-url-map) */
  defaultUrlRedirect?: { httpsRedirect?: boolean; redirectResponseCode?: string; hostRedirect?: string; pathRedirect?: string };
}

export type HealthState = "HEALTHY" | "UNHEALTHY" | "DRAINING" | "TIMEOUT" | "UNKNOWN";

export interface BackendHealthModel {
  /** instance group name, or network endpoint group name when groupKind is "networkEndpointGroup" */
  group: string;
  /** what kind of group `group` names; undefined means an instance group (the article's path) */
  groupKind?: "instanceGroup" | "networkEndpointGroup";
  /** zone of the instance group, when known (regional clusters have one group per zone, same name) */
  zone?: string;
  instance: string;
  ipAddress?: string;
  port?: number;
  state: HealthState;
  /** why, when the health checker said (the lab LB: "HTTP 301", "connection refused") */
  detail?: string;
}

/** compute#healthCheck (or a legacy httpHealthCheck): what the health checkers send to each backend. */
export interface HealthCheckModel {
  name: string;
  /** HTTP | HTTPS | HTTP2 | TCP | ... */
  type: string;
  /** the port probed; undefined with portSpecification USE_SERVING_PORT (then the backend service's named port) */
  port?: number;
  portSpecification?: string;
  requestPath?: string;
  host?: string;
  checkIntervalSec?: number;
  timeoutSec?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
}

export interface BackendServiceModel {
  name: string;
  protocol?: string;
  portName?: string;
  port?: number;
  healthChecks: string[];
  region?: string;
  /** the Service and port the controller made it for, from its description {"kubernetes.io/service-name": "ns/name", ...} */
  kubernetesService?: { service: string; port?: string };
  /** instance groups or network endpoint groups behind it */
  backends: { group: string; kind: "instanceGroup" | "networkEndpointGroup"; zone?: string }[];
  health: BackendHealthModel[];
}

export interface InstanceGroupModel {
  name: string;
  zone: string;
  namedPorts: { name: string; port: number }[];
  /** instance names */
  instances: string[];
}

export interface InstanceModel {
  name: string;
  zone: string;
  internalIp?: string;
  externalIp?: string;
  networkTags: string[];
  /** networkInterfaces[0].network, by name: firewall rules of other networks do not apply to it */
  network?: string;
  /** serviceAccounts[].email: the targets of firewall rules with targetServiceAccounts */
  serviceAccounts?: string[];
}

export interface FirewallRuleModel {
  name: string;
  /** the VPC network's name (from the rule's network URL) */
  network?: string;
  direction: "INGRESS" | "EGRESS";
  /** 0..65535, lower wins; the API's default is 1000 */
  priority?: number;
  sourceRanges: string[];
  sourceTags?: string[];
  targetTags: string[];
  targetServiceAccounts?: string[];
  allowed: { protocol: string; ports: string[] }[];
  denied?: { protocol: string; ports: string[] }[];
  disabled: boolean;
}

export interface LoadBalancerModel {
  /** the ingress.kubernetes.io/* annotations the names were read from */
  annotations: Record<string, string>;
  forwardingRule?: ForwardingRuleModel;
  targetProxy?: TargetProxyModel;
  urlMap?: UrlMapModel;
  backendServices: BackendServiceModel[];
  instanceGroups: InstanceGroupModel[];
  instances: InstanceModel[];
  /** firewall rules whose source ranges overlap the health-check ranges, in any network, allow or deny */
  healthCheckFirewalls: FirewallRuleModel[];
  /** set for regional Ingress classes (gce-internal, gce-regional-external): resources under regions/<region>/ */
  region?: string;
  /**
   * The HTTP frontend that only redirects (ingress.kubernetes.io/redirect-url-map, FrontendConfig
   * redirectToHttps); forwardingRule / targetProxy / urlMap above are then the HTTPS frontend that serves.
   */
  redirect?: { forwardingRule?: ForwardingRuleModel; targetProxy?: TargetProxyModel; urlMap?: UrlMapModel };
  /**
   * Regional classes: the region's proxy-only subnets (purpose REGIONAL_MANAGED_PROXY or
   * INTERNAL_HTTPS_LOAD_BALANCER), whose addresses the regional proxies use toward the nodes;
   * undefined when not read (global load balancers have none)
   */
  proxyOnlySubnets?: { name: string; network?: string; ipCidrRange: string; purpose: string; role?: string }[];
  /** the health check resources the backend services name */
  healthChecks?: HealthCheckModel[];
  /** the cluster's VPC network name, when known; firewall rules of other networks do not apply */
  network?: string;
  /**
   * The network endpoint groups the backend services on the Service's path name (container-native
   * path), each with its endpoints; undefined when none were read (instance-group path, or not read)
   */
  networkEndpointGroups?: NetworkEndpointGroupModel[];
  /** every INGRESS firewall rule of that network, for evaluating it as the VPC does (undefined: not read) */
  firewalls?: FirewallRuleModel[];
}


// ---------------------------------------------------------------- container-native path (NEG)

/**
 * One endpoint of a network endpoint group, as `networkEndpointGroups.listNetworkEndpoints`
 * (healthStatus SHOW) returns it: for GCE_VM_IP_PORT NEGs made by the NEG controller, p-ip:p-port
 * of one pod, and the VM (node) whose alias range holds p-ip.
 */
export interface NetworkEndpointModel {
  /** networkEndpoint.ipAddress: p-ip */
  ipAddress: string;
  /** networkEndpoint.port: p-port (undefined: the NEG's defaultPort applies) */
  port?: number;
  /** networkEndpoint.instance: the VM (node) name, by name */
  instance?: string;
  /**
   * healths[]: one entry per backend service that health-checks the endpoint (compute's
   * HealthStatusForNetworkEndpoint); empty when no backend service checks it; undefined when the
   * listing was made without healthStatus SHOW.
   */
  healths?: { backendService?: string; healthCheck?: string; state: HealthState }[];
}

/** compute#networkEndpointGroup (zonal for the NEG controller's NEGs). */
export interface NetworkEndpointGroupModel {
  name: string;
  /** zone of a zonal NEG; undefined for regional / global NEGs */
  zone?: string;
  /** region of a regional NEG (serverless, ...) */
  region?: string;
  /** GCE_VM_IP_PORT (the NEG controller's) | GCE_VM_IP | SERVERLESS | INTERNET_IP_PORT | INTERNET_FQDN_PORT | NON_GCP_PRIVATE_IP_PORT | PRIVATE_SERVICE_CONNECT | ... */
  networkEndpointType: string;
  defaultPort?: number;
  /** network / subnetwork by name */
  network?: string;
  subnetwork?: string;
  /** the API's count of endpoints */
  size?: number;
  /**
   * The Service the NEG controller made it for, from its description
   * {"cluster-uid":...,"namespace":...,"service-name":...,"port":...} (ingress-gce pkg/neg/syncers)
   */
  kubernetesService?: { namespace: string; name: string; port?: string; clusterUid?: string };
  /** the endpoints with their health; undefined when they could not be read (see problems) */
  endpoints?: NetworkEndpointModel[];
}

/** A pod condition, as status.conditions[] holds it. */
export interface PodConditionModel {
  type: string;
  /** "True" | "False" | "Unknown" */
  status: string;
  /** for cloud.google.com/load-balancer-neg-ready: LoadBalancerNegReady | LoadBalancerNegNotReady | LoadBalancerNegTimeout | LoadBalancerNegWithoutHealthCheck (ingress-gce pkg/neg/readiness) */
  reason?: string;
  message?: string;
  /** RFC 3339 */
  lastTransitionTime?: string;
}

/**
 * The Service annotation cloud.google.com/neg-status, parsed:
 * {"network_endpoint_groups":{"<s-port>":"<neg name>"},"zones":["<zone>",...]} (ingress-gce NegStatus).
 */
export interface NegStatusModel {
  /** s-port (as the annotation's key, a string) -> NEG name */
  networkEndpointGroups: Record<string, string>;
  zones: string[];
  /** the annotation text, verbatim, for evidence */
  raw: string;
}

/** A ServiceNetworkEndpointGroup (networking.gke.io/v1beta1, short name svcneg): the NEG controller's own status per NEG. */
export interface SvcNegModel {
  namespace: string;
  name: string;
  /** metadata.ownerReferences' Service name, or the label networking.gke.io/service-name */
  serviceName?: string;
  /** status.conditions[]: Initialized, Synced (status, reason, message, lastTransitionTime) */
  conditions: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
  /** status.networkEndpointGroups[]: the NEGs (selfLink, networkEndpointType) */
  networkEndpointGroups: { selfLink?: string; networkEndpointType?: string; id?: string }[];
  /** status.lastSyncTime (RFC 3339) */
  lastSyncTime?: string;
}

// ---------------------------------------------------------------- Kubernetes side

export interface ServicePortModel {
  name?: string;
  protocol: "TCP" | "UDP" | "SCTP";
  port: number;
  targetPort: number | string;
  nodePort?: number;
}

export interface ServiceModel {
  namespace: string;
  name: string;
  uid?: string;
  type: string;
  clusterIP?: string;
  ports: ServicePortModel[];
  selector: Record<string, string>;
  annotations: Record<string, string>;
  externalTrafficPolicy?: string;
}

export interface EndpointModel {
  ip: string;
  port: number;
  ready: boolean;
  /** EndpointSlice conditions.serving / terminating (undefined when the API did not say) */
  serving?: boolean;
  terminating?: boolean;
  nodeName?: string;
  podName?: string;
}

export interface PodModel {
  name: string;
  ip?: string;
  nodeName?: string;
  ready: boolean;
  labels: Record<string, string>;
  /** status.phase: Pending | Running | Succeeded | Failed | Unknown */
  phase?: string;
  /** spec.containers[].ports: to match a named or numeric targetPort */
  containerPorts?: { name?: string; containerPort: number; protocol?: string }[];
  /** spec.containers[].readinessProbe.httpGet, the source of the health check's path on GKE */
  readinessProbe?: { path?: string; port?: number | string; scheme?: string };
  /** what the pod's network namespace listens on (`kubectl exec POD -- ss -ltn`; the lab reads it); undefined: not read */
  listeners?: ListeningSocket[];
  /** spec.readinessGates[].conditionType (cloud.google.com/load-balancer-neg-ready on the NEG path); undefined: not read */
  readinessGates?: string[];
  /** status.conditions[]: Ready, ContainersReady, and the readiness gates' conditions; undefined: not read */
  conditions?: PodConditionModel[];
  /** metadata.namespace, when the source read it */
  namespace?: string;
}

/** A Kubernetes Event about the Ingress (or Service): the controller's own words. */
export interface KubeEventModel {
  type: "Normal" | "Warning" | string;
  reason: string;
  message: string;
  /** "Ingress/ns/name" */
  involvedObject: string;
  count?: number;
  /** RFC 3339 */
  lastTimestamp?: string;
  /** reporting controller, e.g. "loadbalancer-controller" */
  source?: string;
}

export interface KubeNodeModel {
  name: string;
  internalIp?: string;
  externalIp?: string;
  /** gce://project/zone/instance on GKE */
  providerId?: string;
  /** the node's zone (label topology.kubernetes.io/zone, else providerId's zone); undefined: unknown */
  zone?: string;
}

export interface IngressModel {
  namespace: string;
  name: string;
  className?: string;
  defaultBackend?: { service: string; port: number | string };
  annotations: Record<string, string>;
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIps: string[];
  /** spec.rules[]: host (undefined = any) and the paths with the Service each sends to */
  rules?: { host?: string; paths: { path?: string; pathType?: string; service: string; port: number | string }[] }[];
}

export interface KubernetesModel {
  service?: ServiceModel;
  endpoints: EndpointModel[];
  pods: PodModel[];
  nodes: KubeNodeModel[];
  ingress?: IngressModel;
  /** kube-system/kube-proxy present and no anetd / cilium: LEGACY datapath */
  datapath?: "kube-proxy" | "dataplane-v2" | "unknown";
  /** Events about the Ingress and the Service; undefined when they were not read */
  events?: KubeEventModel[];
  /** the Service's cloud.google.com/neg-status annotation, parsed; undefined when the Service has none or it is malformed (see problems) */
  negStatus?: NegStatusModel;
  /** the Service's ServiceNetworkEndpointGroup objects; undefined when they could not be read (a 403/404 goes to problems) */
  svcNegs?: SvcNegModel[];
}

// ---------------------------------------------------------------- node side (SSH)

export interface NatDump {
  /** the command that produced it, e.g. "sudo iptables-legacy-save -c -t nat" */
  command: string;
  backend: "legacy" | "nft" | "nft-native";
  text: string;
  /**
   * When `text` keeps only part of the node's output (sources/node-reduce.ts): the node's own
   * 1-based line number of each line of `text`, so evidence quotes lines as the node printed them.
   */
  lineNumbers?: number[];
  /** set when `text` is cut down to one Service's rules: which, and how much of the output was kept */
  reduction?: { service: string; totalLines: number; keptLines: number };
}

export interface InterfaceAddress {
  ifname: string;
  address: string;
  prefixLength: number;
}

export interface ListeningSocket {
  address: string;
  port: number;
  process?: string;
}

/** What one probe from the node saw: an HTTP status, or why there was none. */
export type ProbeOutcome =
  | { kind: "http"; status: number; location?: string }
  | { kind: "refused" }
  | { kind: "timeout"; afterMs: number }
  | { kind: "error"; message: string };

/** A probe sent from the node to n-ip:n-port or to a pod's p-ip:p-port (the health check's path). */
export interface NodeProbe {
  target: "node-port" | "pod";
  address: string;
  port: number;
  path: string;
  /** the pod probed, for target "pod" */
  pod?: string;
  /** the command that ran it, e.g. "curl -sS -o /dev/null -w %{http_code} ..." */
  command: string;
  outcome: ProbeOutcome;
}

/** Whether the node forwards what it DNATs: the filter table and the kernel switch. */
export interface ForwardingModel {
  /** net.ipv4.ip_forward; undefined when it could not be read */
  ipForward?: boolean;
  /** the whole filter table as saved (iptables-save), same backend as the nat dump */
  filter?: NatDump;
}

export interface NodeModel {
  name: string;
  internalIp?: string;
  externalIp?: string;
  /** the address SSH connected to */
  sshAddress?: string;
  /** "snapshot": read from a snapshot folder's nodes/<node>/ files */
  transport: "direct" | "iap" | "lab" | "snapshot";
  reachable: boolean;
  hostKeyVerified?: boolean;
  /** where the key the node was checked against came from; "first-use" = not verified, only trusted */
  hostKeySource?: "guest-attributes" | "serial-console" | "first-use";
  /** "<type> SHA256:..." of the host key the node offered */
  hostKeyFingerprint?: string;
  nat?: NatDump;
  addresses?: InterfaceAddress[];
  listeners?: ListeningSocket[];
  /** `iptables-save -c -t nat` before and after the requests, for the per-rule counters */
  countersBefore?: NatDump;
  countersAfter?: NatDump;
  /** forwarding evidence (filter table, ip_forward); undefined when not read */
  forwarding?: ForwardingModel;
  /** probes from the node; undefined when none were run */
  probes?: NodeProbe[];
}

// ---------------------------------------------------------------- end to end

export interface RequestResult {
  status?: number;
  /** pod name and IP as the pod reported them in its answer */
  podName?: string;
  podIp?: string;
  error?: string;
}

export interface RequestsModel {
  url: string;
  results: RequestResult[];
  /** true when the requests shared one keep-alive connection (default: a new connection each) */
  keepAlive?: boolean;
}

// ---------------------------------------------------------------- the whole path

export interface PathModel {
  target: {
    kind: "gke" | "lab";
    project?: string;
    location?: string;
    clusterName?: string;
    url?: string;
    loadBalancerIp?: string;
    /**
     * kind "lab": the lab's namespace prefix (LAB_PREFIX, e.g. "gip-lab-"), so a fix can name
     * `<prefix>node-2`, and its repair command as the reader types it (with sudo when their shell
     * is not root's); set by the lab source, never by the verifier.
     */
    lab?: { prefix: string; repair: string };
    /** where the objects came from when not the program's stack: a user's Ingress, live or from a snapshot folder */
    origin?: { kind: "ingress" | "snapshot"; ingress: string; service?: string; snapshot?: string };
    /** from the stack outputs / lab config: what the program asked for */
    expected?: { servicePort?: number; podPort?: number; nodePort?: number; replicas?: number };
  };
  loadBalancer?: LoadBalancerModel;
  kubernetes?: KubernetesModel;
  nodes: NodeModel[];
  /** which nodes were read (--nodes); undefined = every node known */
  nodeSelection?: NodeSelection;
  requests?: RequestsModel;
  problems: Problem[];
}

/** The nodes --nodes chose (sources/node-selection.ts), for the claims' scope and the report. */
export interface NodeSelection {
  mode: "all" | "sample" | "named";
  /** names of the nodes read */
  chosen: string[];
  /** how many nodes the cluster has (the targets known) */
  of: number;
  /** one sentence for the report: which nodes, and why */
  note: string;
}

// ---------------------------------------------------------------- checks

export type Verdict = "pass" | "fail" | "cannot-tell";

export type ClaimId = "C1" | "C2" | "C3" | "C4" | "C5" | "C6" | "C7" | "C8" | "C9" | "C10" | "C11" | "C12";

export interface CheckResult {
  id: ClaimId;
  /** the article's claim in one line */
  claim: string;
  verdict: Verdict;
  /** why this verdict, in one or two sentences */
  summary: string;
  evidence: Evidence[];
}

// ---------------------------------------------------------------- diagnosis

/** The hops of design.md's "contract: verify report JSON", in the order a request crosses them. */
export const DIAGNOSIS_HOPS = [
  "client",
  "forwarding-rule",
  "target-proxy",
  "url-map",
  "backend-service",
  "health-check",
  "firewall",
  "instance-group",
  "network-endpoint-group",
  "node",
  "node-nat",
  "node-forwarding",
  "service",
  "endpoints",
  "pod",
] as const;

export type DiagnosisHop = (typeof DIAGNOSIS_HOPS)[number];

/** One cause of a broken path: which hop, on what, why, and how to fix it. */
export interface Diagnosis {
  hop: DiagnosisHop;
  /** the node, pod or Google Cloud resource (the lab's node-1..3, pod-1, pod-2) */
  subject: string;
  /** a stable kebab-case id documented in README ("unexplained" for a failing claim nothing explains) */
  cause: string;
  /** one line in the article's terms (n-ip, n-port, s-ip, s-port, p-ip, p-port) */
  summary: string;
  evidence: Evidence[];
  fix: string;
  /**
   * The one command, run on the node `subject`, that undoes the cause by hand, where there is one
   * (the walk's iptables command that puts a rule back or deletes it); `fix` quotes it in its prose.
   */
  command?: string;
  /** the claims this cause explains */
  claims?: ClaimId[];
}
