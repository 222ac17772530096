// The fields of each Google Cloud and Kubernetes object kind that the sources and checks read: one
// table per kind. `npm run snapshot` keeps these and nothing else (an instance's metadata holds
// kube-env with the kubelet's key and kube-proxy's token; a pod's env and its
// last-applied-configuration can hold anything), so a snapshot is safe to share. Adding a field the
// verifier starts to read means adding it here; the snapshot round-trip test fails until then
// (live and offline verdicts differ).
//
// Path syntax: "a.b" keeps field b of a (whole), "a[].b" keeps b of every element of array a,
// "metadata.annotations{}" keeps only the annotations in ANNOTATIONS.

/** Annotations the project reads (sources/gcp.ts lbAnnotationKeys, checks/path-mode.ts, the NEG path), by key or prefix. */
export const ANNOTATIONS = {
  /** the GKE ingress controller's status annotations: names of the load balancer's resources */
  prefixes: ["ingress.kubernetes.io/"],
  keys: [
    "kubernetes.io/ingress.class",
    "kubernetes.io/ingress.global-static-ip-name",
    "kubernetes.io/ingress.regional-static-ip-name",
    "kubernetes.io/ingress.allow-http",
    "cloud.google.com/neg",
    "cloud.google.com/neg-status",
    "cloud.google.com/backend-config",
    "cloud.google.com/app-protocols",
    "networking.gke.io/v1beta1.FrontendConfig",
    "networking.gke.io/managed-certificates",
  ],
};

/** True for an annotation the project reads (kept in snapshots and in the model). */
export function isReadAnnotation(key: string): boolean {
  return ANNOTATIONS.keys.includes(key) || ANNOTATIONS.prefixes.some((p) => key.startsWith(p));
}

/** Only the annotations the project reads (kubectl's last-applied-configuration and the like dropped). */
export function readAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => isReadAnnotation(k)));
}

const COMPUTE_ID = ["kind", "id", "name", "description", "selfLink", "creationTimestamp", "zone", "region"];
const KUBE_ID = [
  "apiVersion",
  "kind",
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "metadata.resourceVersion",
  "metadata.generation",
  "metadata.creationTimestamp",
  "metadata.deletionTimestamp",
  "metadata.labels",
  "metadata.annotations{}",
  "metadata.ownerReferences",
  "metadata.finalizers",
];

/** Compute kinds (`kind: compute#...`) -> the fields read (sources/gcp.ts). */
export const COMPUTE_FIELDS: Record<string, string[]> = {
  "compute#forwardingRule": [...COMPUTE_ID, "IPAddress", "IPProtocol", "portRange", "ports", "allPorts", "target", "loadBalancingScheme", "network", "subnetwork", "networkTier"],
  "compute#targetHttpProxy": [...COMPUTE_ID, "urlMap"],
  "compute#targetHttpsProxy": [...COMPUTE_ID, "urlMap", "sslCertificates", "sslPolicy"],
  "compute#urlMap": [...COMPUTE_ID, "defaultService", "defaultUrlRedirect", "defaultRouteAction", "hostRules", "pathMatchers"],
  // not `iap` (it can hold an OAuth client secret)
  "compute#backendService": [...COMPUTE_ID, "backends", "healthChecks", "port", "portName", "protocol", "loadBalancingScheme", "timeoutSec", "sessionAffinity", "network", "iap.enabled"],
  "compute#healthCheck": [
    ...COMPUTE_ID,
    "type",
    "checkIntervalSec",
    "timeoutSec",
    "healthyThreshold",
    "unhealthyThreshold",
    "httpHealthCheck",
    "httpsHealthCheck",
    "http2HealthCheck",
    "tcpHealthCheck",
    "sslHealthCheck",
    "grpcHealthCheck",
  ],
  "compute#httpHealthCheck": [...COMPUTE_ID, "host", "port", "requestPath", "checkIntervalSec", "timeoutSec", "healthyThreshold", "unhealthyThreshold"],
  "compute#instanceGroup": [...COMPUTE_ID, "namedPorts", "network", "subnetwork", "size"],
  "compute#instanceWithNamedPorts": ["instance", "status", "namedPorts"],
  // not `metadata` (kube-env: KUBELET_KEY, KUBE_PROXY_TOKEN; startup-script; ssh-keys)
  "compute#instance": [
    ...COMPUTE_ID,
    "status",
    "machineType",
    "tags",
    "labels",
    "serviceAccounts[].email",
    "serviceAccounts[].scopes",
    "networkInterfaces[].kind",
    "networkInterfaces[].name",
    "networkInterfaces[].network",
    "networkInterfaces[].subnetwork",
    "networkInterfaces[].networkIP",
    "networkInterfaces[].stackType",
    "networkInterfaces[].aliasIpRanges",
    "networkInterfaces[].accessConfigs[].kind",
    "networkInterfaces[].accessConfigs[].type",
    "networkInterfaces[].accessConfigs[].name",
    "networkInterfaces[].accessConfigs[].natIP",
    "networkInterfaces[].accessConfigs[].networkTier",
  ],
  "compute#firewall": [
    ...COMPUTE_ID,
    "network",
    "priority",
    "direction",
    "sourceRanges",
    "destinationRanges",
    "sourceTags",
    "targetTags",
    "sourceServiceAccounts",
    "targetServiceAccounts",
    "allowed",
    "denied",
    "disabled",
  ],
  "compute#subnetwork": [...COMPUTE_ID, "network", "ipCidrRange", "secondaryIpRanges", "purpose", "role", "state"],
  "compute#backendServiceGroupHealth": ["kind", "healthStatus", "annotations"],
  // container-native load balancing (design.md, "contract: snapshot, NEGs")
  "compute#networkEndpointGroup": [...COMPUTE_ID, "network", "subnetwork", "networkEndpointType", "defaultPort", "size", "annotations"],
  "compute#networkEndpointWithHealthStatus": ["networkEndpoint", "healths"],
  "compute#networkEndpointGroupsListNetworkEndpoints": ["kind", "id", "selfLink", "networkEndpointGroup", "items[]"],
  "compute#instanceGroupsListInstances": ["kind", "id", "selfLink", "items[]"],
};

/** Kubernetes kinds -> the fields read (sources/k8s.ts; the NEG controller's objects for the NEG path). */
export const KUBE_FIELDS: Record<string, string[]> = {
  Service: [...KUBE_ID, "spec", "status"],
  EndpointSlice: [...KUBE_ID, "addressType", "endpoints", "ports"],
  Endpoints: [...KUBE_ID, "subsets"],
  Ingress: [...KUBE_ID, "spec", "status"],
  IngressClass: [...KUBE_ID, "spec"],
  // not env, envFrom, command, args, volumes
  Pod: [
    ...KUBE_ID,
    "spec.nodeName",
    "spec.hostNetwork",
    "spec.readinessGates",
    "spec.containers[].name",
    "spec.containers[].image",
    "spec.containers[].ports",
    "spec.containers[].readinessProbe",
    "spec.containers[].livenessProbe",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.hostIP",
    "status.hostIPs",
    "status.startTime",
    "status.conditions",
    "status.containerStatuses[].name",
    "status.containerStatuses[].ready",
    "status.containerStatuses[].started",
    "status.containerStatuses[].restartCount",
  ],
  Node: [...KUBE_ID, "spec.providerID", "spec.podCIDR", "spec.podCIDRs", "spec.unschedulable", "spec.taints", "status.addresses", "status.conditions", "status.nodeInfo.kubeletVersion", "status.nodeInfo.kubeProxyVersion", "status.nodeInfo.containerRuntimeVersion"],
  Event: [...KUBE_ID, "involvedObject", "reason", "message", "type", "count", "firstTimestamp", "lastTimestamp", "eventTime", "source", "reportingComponent", "reportingInstance"],
  // only their names and readiness are read (which datapath runs); their pod templates are not
  DaemonSet: [...KUBE_ID, "status.desiredNumberScheduled", "status.numberReady"],
  ServiceNetworkEndpointGroup: [...KUBE_ID, "spec", "status"],
};

/** Kinds without a table keep their identity and status only (a spec can hold a pod template with env). */
const UNKNOWN_KUBE = [...KUBE_ID, "status"];
const UNKNOWN_COMPUTE = [...COMPUTE_ID];

interface Node {
  /** keep the whole value */
  keep?: boolean;
  /** an annotations map: keep only isReadAnnotation keys */
  annotations?: boolean;
  fields: Map<string, Node>;
  /** elements of an array */
  items?: Node;
}

const newNode = (): Node => ({ fields: new Map() });

function compile(paths: string[]): Node {
  const root = newNode();
  for (const path of paths) {
    let node = root;
    for (const raw of path.split(".")) {
      const segment = raw.replace(/(\[\]|\{\})$/, "");
      let next = node.fields.get(segment);
      if (!next) node.fields.set(segment, (next = newNode()));
      node = next;
      if (raw.endsWith("[]")) node = node.items ??= newNode();
      if (raw.endsWith("{}")) node.annotations = true;
    }
    if (!node.annotations && node.fields.size === 0 && !node.items) node.keep = true;
  }
  return root;
}

const compiled = new Map<string, Node>();
function tree(table: "compute" | "kube", kind: string): { node: Node; known: boolean } {
  const paths = table === "compute" ? COMPUTE_FIELDS[kind] : KUBE_FIELDS[kind];
  const key = `${table}|${paths ? kind : "?"}`;
  let node = compiled.get(key);
  if (!node) compiled.set(key, (node = compile(paths ?? (table === "compute" ? UNKNOWN_COMPUTE : UNKNOWN_KUBE))));
  return { node, known: paths !== undefined };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const join = (parent: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? (parent ? `${parent}.${key}` : key) : `${parent}[${key}]`);

function apply(value: unknown, node: Node, path: string, dropped: string[]): unknown {
  if (node.keep) return value;
  if (node.items) {
    if (!Array.isArray(value)) return value;
    return value.map((v, i) => apply(v, node.items!, `${path}[${i}]`, dropped));
  }
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (node.annotations) {
      if (isReadAnnotation(key)) out[key] = v;
      else dropped.push(join(path, key));
      continue;
    }
    const child = node.fields.get(key);
    if (child) out[key] = apply(v, child, join(path, key), dropped);
    else dropped.push(join(path, key));
  }
  return out;
}

/** What allowedFields kept, and which fields it left out. */
export interface Allowed {
  value: unknown;
  /** per object ("compute#instance node-1", "Pod study/web-1"): the fields left out ("metadata", "spec.containers[0].env") */
  dropped: { object: string; field: string }[];
  /** false when the kind has no table (identity and status kept) */
  known: boolean;
}

/**
 * The fields of one API answer that the verifier reads. `value` is a Compute object (`kind:
 * compute#...`, lists and aggregated lists descended into) or a Kubernetes object or list
 * (`apiVersion` + `kind`; a list's items take the list's kind without "List").
 */
export function allowedFields(value: unknown, itemKind?: string): Allowed {
  const dropped: Allowed["dropped"] = [];
  let known = true;
  const describe = (v: Record<string, unknown>, kind: string) => {
    const meta = isObject(v.metadata) ? v.metadata : {};
    const name = typeof v.name === "string" ? v.name : typeof meta.name === "string" ? `${typeof meta.namespace === "string" ? `${meta.namespace}/` : ""}${meta.name}` : "";
    return `${kind}${name ? ` ${name}` : ""}`;
  };
  const one = (v: unknown, kubeKind?: string): unknown => {
    if (!isObject(v)) return v;
    const kind = typeof v.kind === "string" ? v.kind : kubeKind;
    if (kind?.startsWith("compute#")) {
      if (/List$/.test(kind) && !COMPUTE_FIELDS[kind]) {
        // lists: {items: [...]}, aggregated lists: {items: {"zones/z": {<collection>: [...]}}}
        const out: Record<string, unknown> = {};
        for (const key of ["kind", "id", "selfLink"]) if (key in v) out[key] = v[key];
        if (Array.isArray(v.items)) out.items = v.items.map((item) => one(item));
        else if (isObject(v.items)) {
          out.items = Object.fromEntries(
            Object.entries(v.items).map(([scope, entry]) => [
              scope,
              isObject(entry) ? Object.fromEntries(Object.entries(entry).filter(([, list]) => Array.isArray(list)).map(([c, list]) => [c, (list as unknown[]).map((item) => one(item))])) : entry,
            ]),
          );
        }
        return out;
      }
      const { node, known: k } = tree("compute", kind);
      known &&= k;
      const local: string[] = [];
      const out = apply(v, node, "", local);
      if (isObject(out) && Array.isArray(out.items)) out.items = out.items.map((item) => one(item));
      dropped.push(...local.map((field) => ({ object: describe(v, kind), field })));
      return out;
    }
    if (kind && /List$/.test(kind) && Array.isArray(v.items)) {
      const inner = kind === "List" ? undefined : kind.slice(0, -"List".length);
      const out: Record<string, unknown> = {};
      for (const key of ["apiVersion", "kind"]) if (key in v) out[key] = v[key];
      if (isObject(v.metadata)) out.metadata = { ...(v.metadata.resourceVersion !== undefined ? { resourceVersion: v.metadata.resourceVersion } : {}) };
      out.items = v.items.map((item) => one(item, inner));
      return out;
    }
    if (!kind) return v;
    const { node, known: k } = tree("kube", kind);
    known &&= k;
    const local: string[] = [];
    const out = apply(v, node, "", local);
    dropped.push(...local.map((field) => ({ object: describe(v, kind), field })));
    return out;
  };
  return { value: one(value, itemKind), dropped, known };
}
