// The container-native path (NEG) judged hop by hop: the backend service on the Service's path ->
// its network endpoint groups (one per zone) -> endpoints p-ip:p-port -> pods, with the firewall to
// the pods and the readiness gates. On this path C1, C10 and C11 read (docs/neg.md):
//   C1  the LB's backends are the Service's pods: GCE_VM_IP_PORT NEGs cover every zone with a
//       ready pod, each endpoint on a node VM of the cluster;
//   C10 the URL map sends the Service's path to a backend service whose backends are the Service's
//       NEGs (its neg-status), and their endpoints are the Service's endpoints (none stale, none missing);
//   C11 the firewall admits 130.211.0.0/22 and 35.191.0.0/16 to the pods on p-port, every endpoint
//       is HEALTHY, and the readiness gates turned True by the LB's word.
// Pure: the model in, results out.
import type { BackendServiceModel, CheckResult, Evidence, HealthState, NetworkEndpointGroupModel, PodConditionModel, PodModel, Verdict } from "../model";
import { CONTAINER_NEG_TYPE, NEG_GATE_REASONS, NEG_READINESS_GATE } from "../neg";
import { problemText, type CheckContext } from "./context";
import { decide, decisionText, HEALTH_CHECK_RANGES } from "./firewall";
import { combine, list, plural, result } from "./verdict";

export const NEG_CLAIMS = {
  C1: "The LB's backends are the Service's pods: its NEGs cover every zone with a ready pod, each endpoint on a node VM",
  C10: "The URL map sends the Service's path to a backend service whose backends are the Service's NEGs, holding exactly its endpoints p-ip:p-port",
  C11: "The firewall admits the health-check ranges to the pods on p-port, every endpoint is HEALTHY, and the readiness gates are True by the LB's word",
};

/** One NEG backend of a backend service on the Service's path. */
export interface NegBackend {
  backendService: BackendServiceModel;
  group: string;
  zone?: string;
  /** the NEG as read; undefined when it could not be read */
  neg?: NetworkEndpointGroupModel;
}

/** One endpoint the NEGs should hold: a ready pod, or one whose NEG gate still waits for the LB. */
export interface ExpectedEndpoint {
  key: string;
  ip: string;
  port: number;
  pod?: string;
  node?: string;
  /** the pod is not Ready only because its NEG readiness gate waits */
  waiting: boolean;
}

/** One endpoint a NEG holds, with its health as the backend service sees it. */
export interface ActualEndpoint {
  key: string;
  ip: string;
  port?: number;
  instance?: string;
  neg: NetworkEndpointGroupModel;
  backendService: BackendServiceModel;
  /** undefined: no health was read for it */
  health?: HealthState;
  healthSource?: string;
}

export interface NegPathView {
  backendServices: BackendServiceModel[];
  negBackends: NegBackend[];
  igBackends: { backendService: BackendServiceModel; group: string; zone?: string }[];
  /** p-port; undefined when neither the Service nor the pods say it */
  podPort?: number;
  expected: ExpectedEndpoint[];
  /** endpoints of the NEGs that were read (endpoints of unread NEGs are unknown, not here) */
  actual: ActualEndpoint[];
  /** NEGs whose endpoints were not read */
  unreadEndpoints: string[];
  /** node -> zone */
  nodeZone: Map<string, string>;
}

/** The pod's NEG readiness gate: whether it has one, and its condition. */
export function negGate(pod: PodModel): { has: boolean; condition?: PodConditionModel } {
  return { has: (pod.readinessGates ?? []).includes(NEG_READINESS_GATE), condition: pod.conditions?.find((c) => c.type === NEG_READINESS_GATE) };
}

/** p-port: the Service's numeric targetPort, else the pods' named container port, else the endpoints' port. */
function podPortOf(ctx: CheckContext): number | undefined {
  const target = ctx.port?.targetPort;
  if (typeof target === "number") return target;
  if (typeof target === "string" && /^\d+$/.test(target)) return Number(target);
  if (typeof target === "string") {
    const named = ctx.pods.flatMap((p) => p.containerPorts ?? []).find((c) => c.name === target);
    if (named) return named.containerPort;
  }
  const ports = [...new Set((ctx.model.kubernetes?.endpoints ?? []).map((e) => e.port))];
  return ports.length === 1 ? ports[0] : ctx.model.target.expected?.podPort;
}

export function negPathView(ctx: CheckContext): NegPathView {
  const lb = ctx.model.loadBalancer;
  const route = ctx.mode.route;
  const backendServices = route.known ? route.backendServices : (lb?.backendServices ?? []).filter((b) => b.backends.some((x) => x.kind === "networkEndpointGroup"));
  const negs = lb?.networkEndpointGroups ?? [];
  const negBackends: NegBackend[] = [];
  const igBackends: NegPathView["igBackends"] = [];
  for (const bs of backendServices) {
    for (const b of bs.backends) {
      // the sources give the group's name; a hand-made model may hold its link
      const group = b.group.slice(b.group.lastIndexOf("/") + 1);
      if (b.kind === "networkEndpointGroup") negBackends.push({ backendService: bs, group, zone: b.zone, neg: negs.find((n) => n.name === group && (b.zone === undefined || n.zone === b.zone)) });
      else igBackends.push({ backendService: bs, group, zone: b.zone });
    }
  }
  const podPort = podPortOf(ctx);
  const nodeZone = new Map<string, string>();
  for (const n of ctx.model.kubernetes?.nodes ?? []) if (n.zone) nodeZone.set(n.name, n.zone);

  const expected: ExpectedEndpoint[] = [];
  for (const e of ctx.model.kubernetes?.endpoints ?? []) {
    if (podPort !== undefined && e.port !== podPort) continue;
    if (e.terminating) continue;
    const pod = ctx.pods.find((p) => p.name === e.podName || (p.ip !== undefined && p.ip === e.ip));
    const gate = pod ? negGate(pod) : { has: false };
    const waiting = !e.ready && gate.has && gate.condition?.status !== "True" && (pod?.conditions?.find((c) => c.type === "ContainersReady")?.status ?? "True") === "True";
    if (!e.ready && !waiting) continue;
    expected.push({ key: `${e.ip}:${e.port}`, ip: e.ip, port: e.port, pod: pod?.name ?? e.podName, node: e.nodeName ?? pod?.nodeName, waiting });
  }

  const actual: ActualEndpoint[] = [];
  const unreadEndpoints: string[] = [];
  for (const nb of negBackends) {
    if (!nb.neg) continue;
    if (nb.neg.networkEndpointType !== CONTAINER_NEG_TYPE) continue;
    if (!nb.neg.endpoints) {
      unreadEndpoints.push(`${nb.neg.zone ?? ""}/${nb.neg.name}`);
      continue;
    }
    for (const e of nb.neg.endpoints) {
      const port = e.port ?? nb.neg.defaultPort;
      const fromBs = nb.backendService.health.find((h) => h.group === nb.neg!.name && (h.zone === undefined || h.zone === nb.neg!.zone) && h.ipAddress === e.ipAddress && (h.port === undefined || h.port === port));
      const fromNeg = e.healths?.find((h) => h.backendService === undefined || h.backendService === nb.backendService.name);
      actual.push({
        key: `${e.ipAddress}:${port ?? "?"}`,
        ip: e.ipAddress,
        port,
        instance: e.instance,
        neg: nb.neg,
        backendService: nb.backendService,
        health: fromBs?.state ?? fromNeg?.state,
        healthSource: fromBs ? `compute backendServices/${nb.backendService.name} getHealth ${nb.neg.name}` : fromNeg ? `compute networkEndpointGroups/${nb.neg.name} listNetworkEndpoints (healthStatus SHOW)` : undefined,
      });
    }
  }
  return { backendServices, negBackends, igBackends, podPort, expected, actual, unreadEndpoints, nodeZone };
}

/** A pod (Ready, or waiting for its NEG gate) no NEG backend of the Service's path reaches, and why. */
export interface UnreachedPod {
  pod: string;
  /** p-ip:p-port, when the Service's endpoints list it */
  key?: string;
  node?: string;
  zone?: string;
  /**
   * "zone-without-neg": the backend service has no NEG in the pod's zone (known from its backends
   * alone); "not-in-neg": the zone has a NEG, but no NEG holds the endpoint (known only when every
   * NEG and its endpoints were read).
   */
  why: "zone-without-neg" | "not-in-neg";
}

/**
 * The Ready pods (and those whose NEG gate waits) the LB cannot send to because no NEG backend of the backend service on the
 * Service's path holds them: however many requests are sent, they get none. [] when the view cannot
 * tell (a NEG backend or its endpoints not read, zones unknown): unknown is never "unreached".
 */
export function unreachedPods(ctx: CheckContext, v: NegPathView = negPathView(ctx)): UnreachedPod[] {
  if (v.negBackends.length === 0 || v.negBackends.some((b) => (b.zone ?? b.neg?.zone) === undefined)) return [];
  const negZones = new Set(v.negBackends.map((b) => (b.zone ?? b.neg?.zone)!));
  const complete = v.unreadEndpoints.length === 0 && v.negBackends.every((b) => b.neg);
  const held = new Set(v.actual.map((e) => e.key));
  const out: UnreachedPod[] = [];
  // Ready pods, and pods not Ready only because their gate waits for the LB (it cannot see them either)
  const waiting = new Set(v.expected.filter((e) => e.waiting).map((e) => e.pod));
  for (const pod of ctx.pods.filter((p) => p.ready || waiting.has(p.name))) {
    const zone = pod.nodeName ? v.nodeZone.get(pod.nodeName) : undefined;
    const e = v.expected.find((x) => x.pod === pod.name || (pod.ip !== undefined && x.ip === pod.ip));
    const at = { pod: pod.name, ...(e ? { key: e.key } : {}), ...(pod.nodeName ? { node: pod.nodeName } : {}), ...(zone ? { zone } : {}) };
    if (zone !== undefined && !negZones.has(zone)) out.push({ ...at, why: "zone-without-neg" });
    else if (complete && e && !held.has(e.key)) out.push({ ...at, why: "not-in-neg" });
  }
  return out;
}

/**
 * Why an unreached pod gets nothing, in one phrase ("backend service X has no NEG in its zone Z, so
 * the LB never sends to its endpoint p-ip:p-port"); `endpoint`: the phrase is said of the endpoint
 * itself (its row names p-ip:p-port already).
 */
export function unreachedText(u: UnreachedPod, backendService: string | undefined, endpoint = false): string {
  const bs = backendService ? `backend service ${backendService}` : "the backend service";
  const it = endpoint || !u.key ? "it" : `its endpoint ${u.key}`;
  return u.why === "zone-without-neg" ? `${bs} has no NEG in ${endpoint ? "the" : "its"} zone ${u.zone}, so the LB never sends to ${it}` : `${endpoint ? "it" : `its endpoint ${u.key}`} is in no NEG of ${bs}, so the LB never sends to it`;
}

const negSource = (n: NetworkEndpointGroupModel) => `compute networkEndpointGroups/${n.name}${n.zone ? ` (${n.zone})` : n.region ? ` (${n.region})` : ""}`;
const negCommand = (name: string, zone?: string) => `gcloud compute network-endpoint-groups list-network-endpoints ${name}${zone ? ` --zone ${zone}` : ""} --format=json`;

function unreadNegs(ctx: CheckContext, v: NegPathView): string[] {
  return v.negBackends.filter((b) => !b.neg).map((b) => `NEG ${b.zone ? `${b.zone}/` : ""}${b.group} was not read (${list(problemText(ctx.model, ["gcp"]))}; \`gcloud compute network-endpoint-groups describe ${b.group}${b.zone ? ` --zone ${b.zone}` : ""}\`)`);
}

export function checkNegC1(ctx: CheckContext): CheckResult {
  const v = negPathView(ctx);
  const evidence: Evidence[] = [];
  const failures: string[] = [];
  const unknown: string[] = unreadNegs(ctx, v);
  const facts: string[] = [];
  if (v.negBackends.length === 0) {
    return result("C1", NEG_CLAIMS.C1, "cannot-tell", `No NEG backend on the Service's path was read: ${list(problemText(ctx.model, ["gcp", "kubernetes"]))}`, ctx.mode.neg.evidence);
  }
  const negZones = new Set<string>();
  for (const b of v.negBackends) {
    if (!b.neg) continue;
    const n = b.neg;
    evidence.push({ source: negSource(n), detail: `networkEndpointType=${n.networkEndpointType}, defaultPort=${n.defaultPort ?? "(unset)"}, size=${n.size ?? "?"}${n.kubernetesService ? `, made for ${n.kubernetesService.namespace}/${n.kubernetesService.name}:${n.kubernetesService.port ?? "?"}` : ""}`, resource: `${n.zone ?? n.region ?? "global"}/${n.name}` });
    if (n.networkEndpointType !== CONTAINER_NEG_TYPE) {
      failures.push(`NEG ${n.name} is of type ${n.networkEndpointType}, not ${CONTAINER_NEG_TYPE}: its endpoints are not pods (p-ip:p-port), so this backend is not the Service's pods`);
      continue;
    }
    if (n.zone) negZones.add(n.zone);
    const nodesInZone = [...v.nodeZone.entries()].filter(([, z]) => z === n.zone).map(([name]) => name);
    if (v.nodeZone.size > 0 && nodesInZone.length === 0) facts.push(`NEG ${n.name} is in zone ${n.zone}, where the cluster has no node: it can hold no pod`);
  }
  // zones with a ready pod must have a NEG on the backend service
  // ready pods, and pods that are not Ready only because their NEG gate waits for the LB
  const waiting = new Set(v.expected.filter((e) => e.waiting).map((e) => e.pod));
  const readyPods = ctx.pods.filter((p) => (p.ready || waiting.has(p.name)) && p.nodeName);
  const podZones = new Map<string, string[]>();
  for (const p of readyPods) {
    const zone = v.nodeZone.get(p.nodeName!);
    if (!zone) {
      unknown.push(`the zone of node ${p.nodeName} (pod ${p.name}) is unknown (no topology.kubernetes.io/zone label or providerID)`);
      continue;
    }
    podZones.set(zone, [...(podZones.get(zone) ?? []), p.name]);
  }
  for (const [zone, pods] of podZones) {
    evidence.push({ source: "kubernetes pods and nodes", detail: `zone ${zone}: ready pod(s) ${pods.join(", ")}` });
    if (!negZones.has(zone) && v.negBackends.every((b) => b.neg || b.zone !== zone)) failures.push(`zone ${zone} has ready pod(s) ${pods.join(", ")} but no NEG of the backend service is in it, so the LB never sends to them`);
  }
  // each endpoint sits on a node VM of the cluster
  const nodeNames = new Set((ctx.model.kubernetes?.nodes ?? []).map((n) => n.name));
  for (const e of v.actual) {
    evidence.push({ source: negSource(e.neg), detail: `endpoint ${e.key} on instance ${e.instance ?? "(none)"}`, ...(e.instance ? { node: e.instance } : {}) });
    if (e.instance && nodeNames.size > 0 && !nodeNames.has(e.instance)) failures.push(`endpoint ${e.key} of ${e.neg.name} is on VM ${e.instance}, which is not a node of this cluster`);
  }
  if (ctx.pods.length === 0) unknown.push(`the Service's pods are unknown (${list(problemText(ctx.model, ["kubernetes"]))})`);
  const factText = facts.length ? ` Fact: ${facts.join("; ")}.` : "";
  if (failures.length > 0) return result("C1", NEG_CLAIMS.C1, "fail", failures.join("; ") + factText, evidence);
  if (unknown.length > 0) return result("C1", NEG_CLAIMS.C1, "cannot-tell", `Cannot tell: ${unknown.join("; ")}.${factText}`, evidence);
  const instances = [...new Set(v.actual.map((e) => e.instance).filter((i): i is string => i !== undefined))];
  return result(
    "C1",
    NEG_CLAIMS.C1,
    "pass",
    `The LB's backends are pods, not node instance groups: ${plural(negZones.size, "NEG")} (${CONTAINER_NEG_TYPE}) in ${[...negZones].join(", ")} cover every zone with a ready pod (or one waiting for its NEG readiness gate); the endpoints sit on node VM(s) ${list(instances)}.${factText}`,
    evidence,
  );
}

export function checkNegC10(ctx: CheckContext, urlMapEvidence: Evidence[]): CheckResult {
  const lb = ctx.model.loadBalancer;
  const v = negPathView(ctx);
  const route = ctx.mode.route;
  const evidence: Evidence[] = [...urlMapEvidence];
  const failures: string[] = [];
  const unknown: string[] = unreadNegs(ctx, v);
  if (!lb?.urlMap) return result("C10", NEG_CLAIMS.C10, "cannot-tell", `The URL map was not read: ${list(problemText(ctx.model, ["gcp"]))}`, evidence);
  const svc = ctx.service;
  if (!svc) return result("C10", NEG_CLAIMS.C10, "cannot-tell", `The Service was not read: ${list(problemText(ctx.model, ["kubernetes"]))}`, evidence);
  if (route.names.length === 0) failures.push("the URL map sends the Service's path to no backend service");
  for (const name of route.names.filter((n) => !v.backendServices.some((b) => b.name === n))) unknown.push(`backend service ${name} was not read`);
  for (const bs of v.backendServices) {
    evidence.push({ source: `compute backendServices/${bs.name}`, detail: `backends=${list(bs.backends.map((b) => `${b.zone ? b.zone + "/" : ""}${b.group} (${b.kind})`))}`, resource: bs.name });
    if (bs.backends.length === 0) failures.push(`backend service ${bs.name} has no backends`);
  }
  if (v.igBackends.length > 0 && v.negBackends.length > 0) {
    failures.push(`the Service's path reaches both NEGs (${list([...new Set(v.negBackends.map((b) => b.group))])}) and instance groups (${list([...new Set(v.igBackends.map((b) => b.group))])}): the LB splits the requests between pods directly and nodes' n-port; the NEG controller never makes both for one path (a hand-edited backend service, or a switch between modes half done)`);
  }
  // the NEGs are the Service's: neg-status names them
  const status = ctx.model.kubernetes?.negStatus;
  if (status) evidence.push({ source: `kubernetes service ${svc.namespace}/${svc.name}`, detail: `metadata.annotations["cloud.google.com/neg-status"]=${status.raw}` });
  const named = new Set(Object.values(status?.networkEndpointGroups ?? {}));
  for (const b of v.negBackends) {
    if (status && !named.has(b.group)) failures.push(`backend service ${b.backendService.name} uses NEG ${b.group}, which the Service's neg-status does not name (${list([...named])}): not this Service's NEG`);
    const made = b.neg?.kubernetesService;
    if (made && (made.name !== svc.name || made.namespace !== svc.namespace)) failures.push(`NEG ${b.group} was made for Service ${made.namespace}/${made.name}, not ${svc.namespace}/${svc.name}`);
  }
  if (!status) {
    if (svc.annotations["cloud.google.com/neg-status"] === undefined) failures.push(`the Service ${svc.namespace}/${svc.name} has no cloud.google.com/neg-status annotation: the NEG controller has not (yet) made NEGs for it`);
    else unknown.push("the Service's neg-status annotation could not be parsed (see the problems)");
  }
  // endpoints against the Service's endpoints
  for (const u of v.unreadEndpoints) {
    const [zone, name] = u.split("/");
    unknown.push(`the endpoints of NEG ${u} were not read (\`${negCommand(name!, zone || undefined)}\`)`);
  }
  if (v.podPort === undefined) unknown.push("p-port is unknown (the Service's targetPort and the pods' ports were not read)");
  const actualKeys = new Set(v.actual.map((e) => e.key));
  const expectedKeys = new Set(v.expected.map((e) => e.key));
  // "missing" needs every NEG and its endpoints read; otherwise it is unknown, said above
  const complete = v.unreadEndpoints.length === 0 && v.negBackends.every((b) => b.neg);
  const missing = complete ? v.expected.filter((e) => !actualKeys.has(e.key)) : [];
  const stale = v.actual.filter((e) => !expectedKeys.has(e.key));
  for (const e of v.expected) evidence.push({ source: "kubernetes endpointslices", detail: `${e.key}${e.pod ? ` (${e.pod}` : " ("}${e.node ? ` on ${e.node}` : ""})${e.waiting ? ", not Ready only because its NEG readiness gate waits for the LB" : ", ready"}` });
  for (const e of missing) failures.push(`endpoint ${e.key} (${e.pod ?? "?"}) is missing from the NEGs: the LB never sends to it`);
  for (const e of stale) {
    const pod = ctx.pods.find((p) => p.ip === e.ip);
    failures.push(`NEG ${e.neg.name} holds ${e.key}, ${pod ? `pod ${pod.name}'s address but not one of the Service's ready endpoints` : "which is no pod of the Service (stale)"}`);
  }
  if (ctx.model.kubernetes && ctx.model.kubernetes.endpoints.length === 0 && ctx.pods.length === 0) unknown.push(`the Service's endpoints were not read (${list(problemText(ctx.model, ["kubernetes"]))})`);
  if (failures.length > 0) return result("C10", NEG_CLAIMS.C10, "fail", failures.join("; "), evidence);
  if (unknown.length > 0) return result("C10", NEG_CLAIMS.C10, "cannot-tell", `Cannot tell: ${unknown.join("; ")}`, evidence);
  return result(
    "C10",
    NEG_CLAIMS.C10,
    "pass",
    `The URL map sends the Service's path to ${v.backendServices.map((b) => b.name).join(", ")}, whose backends are the Service's NEGs (${list([...new Set(v.negBackends.map((b) => b.group))])}), holding exactly its ${plural(v.expected.length, "endpoint")} ${list(v.expected.map((e) => e.key))} (p-ip:p-port).`,
    evidence,
  );
}

export function checkNegC11(ctx: CheckContext): CheckResult {
  const lb = ctx.model.loadBalancer;
  const v = negPathView(ctx);
  const evidence: Evidence[] = [];
  const failures: string[] = [];
  const unknown: string[] = unreadNegs(ctx, v);
  const parts: Verdict[] = [];
  // firewall: the health checkers and GFEs reach p-ip:p-port through the pod's node VM
  const nodes = [...new Set([...v.actual.map((e) => e.instance), ...ctx.pods.filter((p) => p.ready).map((p) => p.nodeName)].filter((n): n is string => n !== undefined))].sort();
  const rules = lb ? [...(lb.firewalls ?? []), ...lb.healthCheckFirewalls] : [];
  if (v.podPort === undefined) unknown.push("p-port is unknown");
  else if (!lb || (lb.firewalls === undefined && lb.healthCheckFirewalls.length === 0)) unknown.push(`the firewall rules were not read (${list(problemText(ctx.model, ["gcp"]))})`);
  else {
    for (const node of nodes) {
      const vm = lb.instances.find((i) => i.name === node);
      if (!vm) {
        unknown.push(`VM ${node} (its network tags decide the firewall) was not read`);
        continue;
      }
      for (const range of HEALTH_CHECK_RANGES) {
        const d = decide(rules, vm, range, v.podPort, lb.network);
        evidence.push({ source: "compute firewalls", detail: `${decisionText(d)} (p-port)`, node, ...(d.rule ? { resource: d.rule.name } : {}) });
        if (d.action !== "allow") failures.push(`the firewall does not admit ${range} to the pods on ${node} on p-port ${v.podPort}${d.rule ? ` (${d.rule.name})` : " (only the implied deny-all rule applies)"}`);
      }
    }
  }
  // health per endpoint
  for (const e of v.actual) {
    evidence.push({ source: e.healthSource ?? negSource(e.neg), detail: `${e.key} on ${e.instance ?? "?"}: ${e.health ?? "(no health read)"}`, ...(e.instance ? { node: e.instance } : {}), resource: e.neg.name });
    if (e.health === undefined) unknown.push(`no health was read for endpoint ${e.key}`);
    else if (e.health !== "HEALTHY") failures.push(`endpoint ${e.key} (${e.neg.name}) is ${e.health}`);
  }
  if (v.actual.length === 0 && v.unreadEndpoints.length === 0 && v.negBackends.some((b) => b.neg)) failures.push("the NEGs hold no endpoint, so nothing is HEALTHY");
  // readiness gates: True only counts when the LB said so
  for (const pod of ctx.pods) {
    const gate = negGate(pod);
    if (!gate.has) {
      if (pod.readinessGates !== undefined) evidence.push({ source: `kubernetes pod ${pod.name}`, detail: `no ${NEG_READINESS_GATE} readiness gate (the pod was made before the Service had NEGs, or the gate was not injected): its readiness does not wait for the LB` });
      continue;
    }
    const c = gate.condition;
    evidence.push({ source: `kubernetes pod ${pod.name}`, detail: `status.conditions[${NEG_READINESS_GATE}]: ${c ? `${c.status}${c.reason ? `, reason ${c.reason}` : ""}${c.message ? `, "${c.message}"` : ""}` : "(not set yet)"}`, ...(pod.nodeName ? { node: pod.nodeName } : {}) });
    if (!c || c.status !== "True") failures.push(`pod ${pod.name}'s readiness gate ${NEG_READINESS_GATE} is ${c?.status ?? "not set"}${c?.reason ? ` (${c.reason})` : ""}: the LB has not seen it healthy`);
    else if (c.reason === NEG_GATE_REASONS.timeout) failures.push(`pod ${pod.name}'s readiness gate turned True by timeout (${NEG_GATE_REASONS.timeout}), not because the LB saw it healthy`);
    else if (c.reason === NEG_GATE_REASONS.withoutHealthCheck) failures.push(`pod ${pod.name}'s readiness gate is True because no backend service health-checks its NEG (${NEG_GATE_REASONS.withoutHealthCheck}), not the LB's word`);
  }
  parts.push(failures.length ? "fail" : unknown.length ? "cannot-tell" : "pass");
  const verdict = combine(parts);
  if (verdict === "fail") return result("C11", NEG_CLAIMS.C11, "fail", failures.join("; "), evidence);
  if (verdict === "cannot-tell") return result("C11", NEG_CLAIMS.C11, "cannot-tell", `Cannot tell: ${unknown.join("; ")}`, evidence);
  return result(
    "C11",
    NEG_CLAIMS.C11,
    "pass",
    `The firewall admits ${HEALTH_CHECK_RANGES.join(" and ")} to the pods on p-port ${v.podPort} on ${list(nodes)}; all ${plural(v.actual.length, "endpoint")} are HEALTHY; the readiness gates are True by the LB's word.`,
    evidence,
  );
}
