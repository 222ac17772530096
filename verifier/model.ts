// One typed model of the article's path. Sources (GCP, Kubernetes, SSH, lab) fill it; checks and
// reports only read it and never touch the network. Every field a source could not read stays
// undefined and the reason goes to `problems`, so one failure never hides the other results.

/** Where a fact came from, shown to the reader next to a verdict. */
export interface Evidence {
  /** e.g. "compute forwardingRules/k8s2-fr-...", "node gke-...-abcd: iptables-save -t nat" */
  source: string;
  /** the API field or the rule line, verbatim where possible */
  detail: string;
}

/** A source that failed to read something: what, why, and how to fix it. */
export interface Problem {
  source: "gcp" | "kubernetes" | "ssh" | "lab" | "requests" | "input";
  /** node name, resource name, ... */
  subject?: string;
  message: string;
  hint?: string;
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
}

export interface TargetProxyModel {
  name: string;
  kind: "http" | "https";
  urlMap: string;
}

export interface UrlMapModel {
  name: string;
  /** name of the default backend service */
  defaultService?: string;
  hostRuleCount: number;
  pathMatcherCount: number;
}

export type HealthState = "HEALTHY" | "UNHEALTHY" | "DRAINING" | "TIMEOUT" | "UNKNOWN";

export interface BackendHealthModel {
  /** instance group name */
  group: string;
  instance: string;
  ipAddress?: string;
  port?: number;
  state: HealthState;
}

export interface BackendServiceModel {
  name: string;
  protocol?: string;
  portName?: string;
  port?: number;
  healthChecks: string[];
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
}

export interface FirewallRuleModel {
  name: string;
  direction: "INGRESS" | "EGRESS";
  sourceRanges: string[];
  targetTags: string[];
  allowed: { protocol: string; ports: string[] }[];
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
  /** firewall rules whose source ranges include the Google front end / health-check ranges */
  healthCheckFirewalls: FirewallRuleModel[];
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
  nodeName?: string;
  podName?: string;
}

export interface PodModel {
  name: string;
  ip?: string;
  nodeName?: string;
  ready: boolean;
  labels: Record<string, string>;
}

export interface KubeNodeModel {
  name: string;
  internalIp?: string;
  externalIp?: string;
  /** gce://project/zone/instance on GKE */
  providerId?: string;
}

export interface IngressModel {
  namespace: string;
  name: string;
  className?: string;
  defaultBackend?: { service: string; port: number | string };
  annotations: Record<string, string>;
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIps: string[];
}

export interface KubernetesModel {
  service?: ServiceModel;
  endpoints: EndpointModel[];
  pods: PodModel[];
  nodes: KubeNodeModel[];
  ingress?: IngressModel;
  /** kube-system/kube-proxy present and no anetd / cilium: LEGACY datapath */
  datapath?: "kube-proxy" | "dataplane-v2" | "unknown";
}

// ---------------------------------------------------------------- node side (SSH)

export interface NatDump {
  /** the command that produced it, e.g. "sudo iptables-legacy-save -c -t nat" */
  command: string;
  backend: "legacy" | "nft" | "nft-native";
  text: string;
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

export interface NodeModel {
  name: string;
  internalIp?: string;
  externalIp?: string;
  /** the address SSH connected to */
  sshAddress?: string;
  transport: "direct" | "iap" | "lab";
  reachable: boolean;
  hostKeyVerified?: boolean;
  nat?: NatDump;
  addresses?: InterfaceAddress[];
  listeners?: ListeningSocket[];
  /** `iptables-save -c -t nat` before and after the requests, for the per-rule counters */
  countersBefore?: NatDump;
  countersAfter?: NatDump;
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
    /** from the stack outputs / lab config: what the program asked for */
    expected?: { servicePort?: number; podPort?: number; nodePort?: number; replicas?: number };
  };
  loadBalancer?: LoadBalancerModel;
  kubernetes?: KubernetesModel;
  nodes: NodeModel[];
  requests?: RequestsModel;
  problems: Problem[];
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
