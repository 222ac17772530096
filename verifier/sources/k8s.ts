// The Kubernetes source: reads the Service, its EndpointSlices and Pods, the Nodes, the Ingress,
// and which datapath the cluster runs (kube-proxy vs Dataplane V2), straight from the API server
// with a bearer token (the same Google credentials the Compute source uses), so no
// gke-gcloud-auth-plugin is needed. Every failed read is a Problem; the other reads still run.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  ServerConfiguration,
  type ApiConstructor,
  type ApiType,
  DiscoveryV1Api,
  KubeConfig,
  NetworkingV1Api,
  type CoreV1Event,
  type V1EndpointSlice,
  type V1Ingress,
  type V1Node,
  type V1Pod,
  type V1Service,
} from "@kubernetes/client-node";
import type {
  EndpointModel,
  IngressModel,
  KubeEventModel,
  KubeNodeModel,
  KubernetesModel,
  PodModel,
  Problem,
  ServiceModel,
  ServicePortModel,
} from "../model";
import { isoTime, negRequested, NEG_ANNOTATION, NEG_STATUS_ANNOTATION, parseNegStatus, SVCNEG, toSvcNegModel } from "../neg";
import { hopRunner } from "./hop";
import type { KubeAccess, KubeNames, KubernetesResult, Progress } from "./types";

/**
 * Server and CA from a kubeconfig (YAML or JSON) for its current context. GKE kubeconfigs
 * authenticate with the gke-gcloud-auth-plugin exec plugin; that part is ignored and `token`
 * (a Google OAuth2 access token) is used as the bearer token instead.
 */
export function kubeAccessFromKubeconfig(kubeconfig: string, token: string): KubeAccess {
  const config = new KubeConfig();
  try {
    config.loadFromString(kubeconfig);
  } catch (error) {
    // the parser's message may quote the input; keep secrets out of it
    throw new Error(`the kubeconfig is not valid YAML/JSON (${error instanceof Error ? error.name : "parse error"}); pass the stack output "kubeconfig" unchanged`);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    const context = config.getCurrentContext();
    throw new Error(
      context
        ? `the kubeconfig's current-context "${context}" names no cluster entry; regenerate it (pulumi stack output kubeconfig)`
        : "the kubeconfig has no current-context and no cluster; regenerate it (pulumi stack output kubeconfig)",
    );
  }
  if (!cluster.server) throw new Error(`the kubeconfig's cluster "${cluster.name}" has no server URL`);
  if (!token) throw new Error("no bearer token for the Kubernetes API; get one with `gcloud auth application-default print-access-token`");
  return { server: cluster.server, caData: cluster.caData, token };
}

export function configFor(access: KubeAccess): KubeConfig {
  const url = new URL(access.server);
  const plainHttp = url.protocol === "http:";
  // A bearer token only travels in clear text to a local stand-in; a real cluster is always https.
  if (plainHttp && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new Error(`refusing to send the bearer token over plain http to ${url.host}; the cluster endpoint must be https`);
  }
  const config = new KubeConfig();
  config.loadFromOptions({
    // skipTLSVerify only tells the client that plain http (no TLS at all) is intended
    clusters: [{ name: "target", server: access.server, caData: access.caData, skipTLSVerify: plainHttp }],
    users: [{ name: "verifier", token: access.token }],
    contexts: [{ name: "target", cluster: "target", user: "verifier" }],
    currentContext: "target",
  });
  return config;
}

/** config.makeApiClient, with access.httpApi as the transport when one is given (snapshot, recorder). */
export function makeKubeClient<T extends ApiType>(config: KubeConfig, access: KubeAccess, type: ApiConstructor<T>): T {
  if (!access.httpApi) return config.makeApiClient(type);
  return new type(createConfiguration({ baseServer: new ServerConfiguration(access.server, {}), authMethods: { default: config }, httpApi: access.httpApi }));
}

// ---------------------------------------------------------------- errors -> Problems

interface ApiFailure {
  code?: number;
  body?: unknown;
}

function statusMessage(error: unknown): string {
  const body = (error as ApiFailure)?.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 300);
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === "string") return message;
  return error instanceof Error ? error.message : String(error);
}

export function kubeProblem(error: unknown, what: string, subject: string, server: string): Problem {
  const code = (error as ApiFailure)?.code;
  const message = statusMessage(error);
  const problem = (text: string, hint: string): Problem => ({ source: "kubernetes", subject, message: `${what}: ${text}`, hint });
  if (code === 401) {
    return problem(
      "the API server refused the bearer token (401 Unauthorized)",
      "the token comes from Application Default Credentials; run `gcloud auth application-default login` with an account that can use the cluster, and re-run",
    );
  }
  if (code === 403) {
    return problem(
      `forbidden (403): ${message}`,
      "the account needs read access to the cluster, e.g. roles/container.viewer on the project (gcloud projects add-iam-policy-binding PROJECT --member=user:EMAIL --role=roles/container.viewer)",
    );
  }
  if (code === 404) {
    return problem(`not found (404): ${message}`, "check the stack is deployed (`npm run up`) and the names in the stack outputs; `kubectl get svc,ing,pods -A` shows what exists");
  }
  if (typeof code === "number") return problem(`the API server answered ${code}: ${message}`, "re-run; if it persists, check the cluster's health in the console");
  return problem(`no answer from the API server at ${server} (${message})`, "check the cluster endpoint is reachable from here (authorized networks / private endpoint) and re-run");
}

// ---------------------------------------------------------------- object -> model

function toServiceModel(service: V1Service, names: KubeNames): ServiceModel {
  const spec = service.spec ?? {};
  return {
    namespace: service.metadata?.namespace ?? names.namespace,
    name: service.metadata?.name ?? names.serviceName,
    uid: service.metadata?.uid,
    type: spec.type ?? "ClusterIP",
    clusterIP: spec.clusterIP && spec.clusterIP !== "None" ? spec.clusterIP : undefined,
    ports: (spec.ports ?? []).map(
      (p): ServicePortModel => ({
        name: p.name,
        protocol: p.protocol === "UDP" || p.protocol === "SCTP" ? p.protocol : "TCP",
        port: p.port,
        targetPort: p.targetPort ?? p.port,
        nodePort: p.nodePort,
      }),
    ),
    selector: spec.selector ?? {},
    annotations: service.metadata?.annotations ?? {},
    externalTrafficPolicy: spec.externalTrafficPolicy,
  };
}

function toEndpoints(slices: V1EndpointSlice[]): EndpointModel[] {
  const endpoints: EndpointModel[] = [];
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      for (const ip of endpoint.addresses ?? []) {
        for (const port of slice.ports ?? [{}]) {
          endpoints.push({
            ip,
            port: port.port ?? 0,
            // the API: a nil ready condition means ready
            ready: endpoint.conditions?.ready !== false,
            ...(endpoint.conditions?.serving !== undefined ? { serving: endpoint.conditions.serving } : {}),
            ...(endpoint.conditions?.terminating !== undefined ? { terminating: endpoint.conditions.terminating } : {}),
            nodeName: endpoint.nodeName,
            podName: endpoint.targetRef?.kind === "Pod" ? endpoint.targetRef.name : undefined,
          });
        }
      }
    }
  }
  return endpoints.sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port);
}

function toPodModel(pod: V1Pod): PodModel {
  return {
    name: pod.metadata?.name ?? "",
    ip: pod.status?.podIP,
    nodeName: pod.spec?.nodeName,
    ready: (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
    labels: pod.metadata?.labels ?? {},
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    containerPorts: (pod.spec?.containers ?? []).flatMap((c) =>
      (c.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, ...(p.protocol ? { protocol: p.protocol } : {}) })),
    ),
    ...readinessProbeOf(pod),
    ...(pod.metadata?.namespace ? { namespace: pod.metadata.namespace } : {}),
    readinessGates: (pod.spec?.readinessGates ?? []).map((g) => g.conditionType),
    conditions: (pod.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
      ...(isoTime(c.lastTransitionTime) ? { lastTransitionTime: isoTime(c.lastTransitionTime) } : {}),
    })),
  };
}

/** The first container's HTTP readiness probe (GKE's ingress controller copies it into the health check). */
function readinessProbeOf(pod: V1Pod): Pick<PodModel, "readinessProbe"> {
  const probe = (pod.spec?.containers ?? []).map((c) => c.readinessProbe?.httpGet).find((g) => g !== undefined);
  if (!probe) return {};
  return { readinessProbe: { ...(probe.path ? { path: probe.path } : {}), port: probe.port, ...(probe.scheme ? { scheme: probe.scheme } : {}) } };
}

/** A core/v1 Event (what `kubectl describe` lists) as a KubeEventModel. */
export function toEventModel(event: CoreV1Event): KubeEventModel {
  const o = event.involvedObject;
  const when = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp;
  return {
    type: event.type ?? "Normal",
    reason: event.reason ?? "",
    message: event.message ?? "",
    involvedObject: `${o?.kind ?? "?"}/${o?.namespace ?? event.metadata?.namespace ?? ""}/${o?.name ?? ""}`,
    ...(event.count !== undefined ? { count: event.count } : {}),
    ...(when ? { lastTimestamp: new Date(when as unknown as string).toISOString() } : {}),
    ...(event.source?.component || event.reportingComponent ? { source: event.source?.component ?? event.reportingComponent } : {}),
  };
}

function toNodeModel(node: V1Node): KubeNodeModel {
  const address = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address;
  const zone = node.metadata?.labels?.["topology.kubernetes.io/zone"] ?? node.metadata?.labels?.["failure-domain.beta.kubernetes.io/zone"] ?? /^gce:\/\/[^/]+\/([^/]+)\//.exec(node.spec?.providerID ?? "")?.[1];
  return { name: node.metadata?.name ?? "", internalIp: address("InternalIP"), externalIp: address("ExternalIP"), providerId: node.spec?.providerID, ...(zone ? { zone } : {}) };
}

function toIngressModel(ingress: V1Ingress, names: KubeNames): IngressModel {
  const annotations = ingress.metadata?.annotations ?? {};
  const backend = ingress.spec?.defaultBackend?.service;
  return {
    namespace: ingress.metadata?.namespace ?? names.namespace,
    name: ingress.metadata?.name ?? names.ingressName,
    className: ingress.spec?.ingressClassName ?? annotations["kubernetes.io/ingress.class"],
    defaultBackend: backend ? { service: backend.name, port: backend.port?.number ?? backend.port?.name ?? "" } : undefined,
    annotations,
    loadBalancerIps: (ingress.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => typeof ip === "string"),
    ...(ingress.spec?.rules
      ? {
          rules: ingress.spec.rules.map((rule) => ({
            ...(rule.host ? { host: rule.host } : {}),
            paths: (rule.http?.paths ?? [])
              .filter((p) => p.backend.service !== undefined)
              .map((p) => ({
                ...(p.path ? { path: p.path } : {}),
                ...(p.pathType ? { pathType: p.pathType } : {}),
                service: p.backend.service!.name,
                port: p.backend.service!.port?.number ?? p.backend.service!.port?.name ?? "",
              })),
          })),
        }
      : {}),
  };
}

/**
 * The container-native path's Kubernetes side, for a Service with NEGs: the neg-status annotation
 * (parsed; a malformed one is a Problem) and the Service's ServiceNetworkEndpointGroup objects
 * (listed in the namespace, kept when their label, owner or NEG names the Service). A 403/404 on
 * svcneg is "could not read" (a Problem), never an empty list.
 */
async function readNeg(
  model: KubernetesModel,
  names: KubeNames,
  problems: Problem[],
  read: ReturnType<typeof hopRunner>,
  custom: CustomObjectsApi,
): Promise<void> {
  const service = model.service!;
  const statusText = service.annotations[NEG_STATUS_ANNOTATION];
  if (statusText !== undefined) {
    const parsed = parseNegStatus(statusText);
    if (parsed instanceof Error) {
      problems.push({
        source: "kubernetes",
        subject: `${service.namespace}/${service.name}`,
        message: `the Service annotation ${NEG_STATUS_ANNOTATION} is not the NEG controller's JSON (${parsed.message}): ${statusText.slice(0, 120)}`,
        hint: "the NEG controller writes it; `kubectl describe svc` shows its events, and removing the annotation lets the controller write it again",
      });
    } else model.negStatus = parsed;
  }
  if (statusText === undefined && !negRequested(service.annotations[NEG_ANNOTATION])) return;
  const listed = await read("svcneg", `${names.namespace} (${SVCNEG.plural}.${SVCNEG.group})`, () =>
    custom.listNamespacedCustomObject({ group: SVCNEG.group, version: SVCNEG.version, namespace: names.namespace, plural: SVCNEG.plural }),
  );
  if (!listed) {
    // "could not read", with what it costs: the NEG controller's own conditions are unknown
    const problem = problems.find((p) => p.subject?.includes(SVCNEG.plural));
    if (problem) {
      problem.message += " (the NEG controller's Initialized/Synced conditions are unknown; the NEGs themselves are still judged)";
      problem.hint = /\(404\)/.test(problem.message)
        ? `the cluster serves no ${SVCNEG.plural}.${SVCNEG.group}/${SVCNEG.version} (older GKE, or the CRD is not installed); \`kubectl api-resources | grep svcneg\` shows it`
        : `grant list on ${SVCNEG.plural}.${SVCNEG.group} (roles/container.viewer covers it), or run \`kubectl get svcneg -n ${names.namespace} -o yaml\` yourself`;
    }
    return;
  }
  const negNames = new Set(Object.values(model.negStatus?.networkEndpointGroups ?? {}));
  const items = Array.isArray((listed as { items?: unknown }).items) ? ((listed as { items: unknown[] }).items) : [];
  model.svcNegs = items
    .map(toSvcNegModel)
    .filter((s): s is NonNullable<typeof s> => s !== undefined && (s.serviceName === service.name || negNames.has(s.name)))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** kube-proxy static pods without anetd/cilium = the legacy datapath the article describes. */
function detectDatapath(kubeProxyPods: V1Pod[], daemonSetNames: string[], problems: Problem[]): KubernetesModel["datapath"] {
  const proxies = kubeProxyPods.filter((p) => p.metadata?.name?.startsWith("kube-proxy"));
  const ebpf = daemonSetNames.filter((n) => n === "anetd" || n === "cilium");
  if (proxies.length > 0 && ebpf.length === 0) return "kube-proxy";
  if (ebpf.length > 0 && proxies.length === 0) return "dataplane-v2";
  if (proxies.length > 0) {
    problems.push({
      source: "kubernetes",
      subject: "kube-system",
      message: `both kube-proxy pods (${proxies.length}) and the ${ebpf.join("/")} DaemonSet run in kube-system; cannot tell which one programs Services`,
      hint: "inspect a node: `iptables-save -t nat | grep -c KUBE-SVC` shows whether kube-proxy's rules are in place",
    });
  }
  return "unknown";
}

// ---------------------------------------------------------------- collect

export async function collectKubernetes(access: KubeAccess, names: KubeNames, progress: Progress): Promise<KubernetesResult> {
  const problems: Problem[] = [];
  const model: KubernetesModel = { endpoints: [], pods: [], nodes: [] };
  let config: KubeConfig;
  try {
    config = configFor(access);
  } catch (error) {
    problems.push({ source: "kubernetes", subject: access.server, message: `bad cluster access settings: ${error instanceof Error ? error.message : String(error)}`, hint: "check the kubeconfig stack output" });
    return { value: model, problems };
  }
  const core = makeKubeClient(config, access, CoreV1Api);
  const discovery = makeKubeClient(config, access, DiscoveryV1Api);
  const networking = makeKubeClient(config, access, NetworkingV1Api);
  const apps = makeKubeClient(config, access, AppsV1Api);
  const { namespace } = names;

  const read = hopRunner(progress, problems, (error, what, subject) => kubeProblem(error, what, subject, access.server));

  const serviceRead = read("service", `${namespace}/${names.serviceName}`, () => core.readNamespacedService({ name: names.serviceName, namespace }));
  // `kubectl describe` reads core/v1 Events by involvedObject; the controller's errors are there
  const eventsOf = (kind: string, name: string) =>
    read("events", `${kind} ${namespace}/${name}`, () =>
      core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` }),
    );
  const [service, slices, nodes, ingress, kubeProxyPods, daemonSets, ingressEvents, serviceEvents] = await Promise.all([
    serviceRead,
    read("endpointslices", `${namespace}/${names.serviceName}`, () =>
      discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${names.serviceName}` }),
    ),
    read("nodes", "all", () => core.listNode()),
    read("ingress", `${namespace}/${names.ingressName}`, () => networking.readNamespacedIngress({ name: names.ingressName, namespace })),
    read("datapath", "kube-system pods component=kube-proxy", () => core.listNamespacedPod({ namespace: "kube-system", labelSelector: "component=kube-proxy" })),
    read("datapath", "kube-system daemonsets", () => apps.listNamespacedDaemonSet({ namespace: "kube-system" })),
    eventsOf("Ingress", names.ingressName),
    eventsOf("Service", names.serviceName),
  ]);
  if (ingressEvents || serviceEvents) {
    model.events = [...(ingressEvents?.items ?? []), ...(serviceEvents?.items ?? [])]
      .map(toEventModel)
      .sort((a, b) => (a.lastTimestamp ?? "").localeCompare(b.lastTimestamp ?? "") || a.reason.localeCompare(b.reason));
  }

  if (service) {
    model.service = toServiceModel(service, names);
    await readNeg(model, names, problems, read, makeKubeClient(config, access, CustomObjectsApi));
  }
  if (slices) {
    model.endpoints = toEndpoints(slices.items);
    if (slices.items.length === 0) {
      problems.push({
        source: "kubernetes",
        subject: `${namespace}/${names.serviceName}`,
        message: `no EndpointSlice carries kubernetes.io/service-name=${names.serviceName}`,
        hint: "the Service selects no pods or the pods are not created yet; `kubectl get pods -l <selector>` and re-run",
      });
    }
  }
  if (nodes) model.nodes = nodes.items.map(toNodeModel).sort((a, b) => a.name.localeCompare(b.name));
  if (ingress) model.ingress = toIngressModel(ingress, names);
  if (kubeProxyPods && daemonSets) {
    model.datapath = detectDatapath(kubeProxyPods.items, daemonSets.items.map((d) => d.metadata?.name ?? ""), problems);
  }

  // pods by the Service's own selector, so the model shows what the Service really picks
  if (model.service) {
    const selector = selectorString(model.service.selector);
    if (selector === "") {
      problems.push({
        source: "kubernetes",
        subject: `${namespace}/${names.serviceName}`,
        message: "the Service has no selector, so no pods are looked up",
        hint: "the program's Service selects the Deployment's pod labels; check spec.selector",
      });
    } else {
      const pods = await read("pods", `${namespace} ${selector}`, () => core.listNamespacedPod({ namespace, labelSelector: selector }));
      if (pods) model.pods = pods.items.map(toPodModel).sort((a, b) => a.name.localeCompare(b.name));
    }
  }
  return { value: model, problems };
}
