// Causes of a broken container-native path (NEG), read from the NEGs, their endpoints and health,
// the firewall to the pods, the health check, the pods' readiness gates, the svcneg conditions and
// the Service's events. Pure: the model and the claims' results in, causes out. The causes are
// those GKE's "Troubleshoot container-native load balancing" page and ingress-gce's tracker show
// as common (docs/neg.md lists them with where each comes from).
import type { CheckResult, ClaimId, Diagnosis, DiagnosisHop, Evidence } from "../model";
import { CONTAINER_NEG_TYPE, NEG_GATE_REASONS, NEG_READINESS_GATE, SVCNEG } from "../neg";
import type { CheckContext } from "./context";
import { decide, decisionText, HEALTH_CHECK_RANGES } from "./firewall";
import { negGate, negPathView, type NegPathView } from "./neg-path";
import { list } from "./verdict";

type Cause = Omit<Diagnosis, "claims"> & { explains: ClaimId[] };
const cause = (hop: DiagnosisHop, subject: string, id: string, summary: string, evidence: Evidence[], fix: string, explains: ClaimId[]): Cause => ({ hop, subject, cause: id, summary, evidence, fix, explains });

/** Causes on the NEG path; [] when the Service's path is not NEG-backed. */
export function negCauses(ctx: CheckContext, results: CheckResult[]): Diagnosis[] {
  if (!ctx.mode.neg.detected) return [];
  const failing = new Set(results.filter((r) => r.verdict === "fail").map((r) => r.id));
  const v = negPathView(ctx);
  const causes: Cause[] = [...backendCauses(ctx, v), ...endpointCauses(ctx, v), ...healthCheckCauses(ctx, v), ...firewallCauses(ctx, v), ...gateCauses(ctx)];
  return causes.map(({ explains, ...c }) => ({ ...c, claims: explains.filter((id) => failing.has(id)) }));
}

const svcName = (ctx: CheckContext) => (ctx.service ? `${ctx.service.namespace}/${ctx.service.name}` : "the Service");

/** The NEG controller's own words: svcneg conditions not True, and Warning events about the Service. */
function controllerEvidence(ctx: CheckContext): Evidence[] {
  const out: Evidence[] = [];
  for (const s of ctx.model.kubernetes?.svcNegs ?? []) {
    for (const c of s.conditions) {
      out.push({ source: `kubernetes svcneg ${s.namespace}/${s.name}`, detail: `status.conditions[${c.type}]: ${c.status}${c.reason ? `, reason ${c.reason}` : ""}${c.message ? `, "${c.message}"` : ""}${c.lastTransitionTime ? ` (since ${c.lastTransitionTime})` : ""}` });
    }
    if (s.lastSyncTime) out.push({ source: `kubernetes svcneg ${s.namespace}/${s.name}`, detail: `status.lastSyncTime=${s.lastSyncTime}` });
  }
  const svc = ctx.service;
  for (const e of (ctx.model.kubernetes?.events ?? []).filter((e) => e.type === "Warning" && svc && e.involvedObject === `Service/${svc.namespace}/${svc.name}`)) {
    out.push({ source: `kubernetes events Service/${svc!.namespace}/${svc!.name}`, detail: `${e.reason}: ${e.message}${e.count ? ` (×${e.count})` : ""}` });
  }
  const unread = svcNegUnread(ctx);
  if (unread) out.push(unread);
  return out;
}

/**
 * What the svcneg objects' absence costs, said only where it is true: a read that failed is a
 * Problem (sources/k8s.ts records it), so the line refers to the problems section, which then
 * exists; the lab runs no NEG controller, so it has no svcneg to miss; any other model without
 * them (a hand-made one) says they were not in the input.
 */
function svcNegUnread(ctx: CheckContext): Evidence | undefined {
  if (ctx.model.kubernetes?.svcNegs !== undefined || !ctx.model.kubernetes?.service) return undefined;
  if (ctx.model.target.kind === "lab") return undefined;
  const problem = ctx.model.problems.find((p) => p.source === "kubernetes" && (p.subject ?? "").includes(SVCNEG.plural));
  return problem
    ? { source: "kubernetes svcneg", detail: "could not be read (see the problems): the NEG controller's conditions are unknown" }
    : { source: "kubernetes svcneg", detail: `not in what was read (\`kubectl get svcneg -n ${ctx.service?.namespace ?? "NS"} -o yaml\` shows them): the NEG controller's conditions are unknown` };
}

function backendCauses(ctx: CheckContext, v: NegPathView): Cause[] {
  const out: Cause[] = [];
  for (const b of v.negBackends) {
    if (b.neg && b.neg.networkEndpointType !== CONTAINER_NEG_TYPE) {
      out.push(
        cause("network-endpoint-group", b.neg.name, "neg-not-container-native",
          `Backend service ${b.backendService.name} on the Service's path uses NEG ${b.neg.name} of type ${b.neg.networkEndpointType}: its endpoints are not the Service's pods (p-ip:p-port, ${CONTAINER_NEG_TYPE}).`,
          [{ source: `compute networkEndpointGroups/${b.neg.name}`, detail: `networkEndpointType=${b.neg.networkEndpointType}`, resource: b.neg.name }],
          `the GKE NEG controller makes ${CONTAINER_NEG_TYPE} NEGs for an Ingress; a NEG of another type was added to the backend service by hand or by another tool: remove it (gcloud compute backend-services remove-backend ${b.backendService.name} --network-endpoint-group ${b.neg.name} ...) or point the Ingress at the Service`,
          ["C1"]),
      );
    }
  }
  // zones with ready pods and no NEG on the backend service
  const negZones = new Set(v.negBackends.map((b) => b.zone ?? b.neg?.zone).filter((z): z is string => z !== undefined));
  const byZone = new Map<string, string[]>();
  for (const p of ctx.pods.filter((p) => p.ready && p.nodeName)) {
    const z = v.nodeZone.get(p.nodeName!);
    if (z && !negZones.has(z)) byZone.set(z, [...(byZone.get(z) ?? []), p.name]);
  }
  // the endpoints C10 finds missing because their zone has no NEG: this cause explains C10 for them
  // (endpointCauses leaves them to it); read only when every NEG's endpoints were read
  const actualKeys = new Set(v.actual.map((e) => e.key));
  const endpointsKnown = v.unreadEndpoints.length === 0 && v.negBackends.every((b) => b.neg);
  for (const [zone, pods] of byZone) {
    const bs = v.backendServices[0]?.name ?? svcName(ctx);
    const status = ctx.model.kubernetes?.negStatus;
    const missing = endpointsKnown ? v.expected.filter((e) => !actualKeys.has(e.key) && e.node !== undefined && v.nodeZone.get(e.node) === zone) : [];
    out.push(
      cause("backend-service", bs, "neg-zone-without-backend",
        `Zone ${zone} has ready pod(s) ${pods.join(", ")}, but backend service ${bs} has no NEG in ${zone}: the LB never sends to them${missing.length > 0 ? `, and their endpoint${missing.length === 1 ? "" : "s"} ${list(missing.map((e) => e.key))} ${missing.length === 1 ? "is" : "are"} in none of its NEGs` : ""}${status && !status.zones.includes(zone) ? `; the Service's neg-status lists only ${list(status.zones)}` : ""}.`,
        [
          { source: `compute backendServices/${bs}`, detail: `backends in zones ${list([...negZones])}`, resource: bs },
          ...missing.map((e) => ({ source: "kubernetes endpointslices", detail: `${e.key} ${e.pod ?? ""} on ${e.node} (${zone}): in no NEG of the backend service`.replace("  ", " ") })),
          ...(status ? [{ source: `kubernetes service ${svcName(ctx)}`, detail: `cloud.google.com/neg-status zones=${list(status.zones)}` }] : []),
          ...controllerEvidence(ctx),
        ],
        "the NEG controller adds a zone's NEG when a node of that zone joins; if it lags, its error is in `kubectl describe svcneg` and the Ingress's events; a backend service edited by hand is reset by the controller on its next sync (touch the Ingress to force one)",
        // C12: the zone's pods get no request (checks/answers.ts says so, naming this cause)
        missing.length > 0 ? ["C1", "C10", "C12"] : ["C1", "C12"]),
    );
  }
  if (v.igBackends.length > 0 && v.negBackends.length > 0) {
    const bs = v.backendServices.map((b) => b.name);
    out.push(
      cause("backend-service", bs[0] ?? svcName(ctx), "neg-and-instance-groups",
        `The Service's path reaches both NEGs and instance groups (${list(bs)}): some requests go to p-ip:p-port directly, the others to n-ip:n-port through the nodes' nat rules.`,
        v.backendServices.map((b) => ({ source: `compute backendServices/${b.name}`, detail: `backends=${list(b.backends.map((x) => `${x.group} (${x.kind})`))}`, resource: b.name })),
        "pick one: the Service annotation cloud.google.com/neg '{\"ingress\": true}' (NEG) or '{\"ingress\": false}' (instance groups), and let the controller sync; remove hand-added backends",
        ["C10"]),
    );
  }
  const svc = ctx.service;
  const status = ctx.model.kubernetes?.negStatus;
  if (svc && svc.annotations["cloud.google.com/neg-status"] === undefined && v.negBackends.length > 0) {
    out.push(
      cause("service", svcName(ctx), "neg-status-missing",
        `The backend service uses NEGs, but Service ${svcName(ctx)} carries no cloud.google.com/neg-status: the NEG controller has not synced this Service.`,
        [{ source: `kubernetes service ${svcName(ctx)}`, detail: `cloud.google.com/neg=${svc.annotations["cloud.google.com/neg"] ?? "(unset)"}, no cloud.google.com/neg-status` }, ...controllerEvidence(ctx)],
        "check the Service has cloud.google.com/neg: '{\"ingress\": true}' and the cluster is VPC-native; `kubectl describe svc` and `kubectl get svcneg` show the controller's errors",
        ["C10"]),
    );
  } else if (status) {
    const named = new Set(Object.values(status.networkEndpointGroups));
    for (const b of v.negBackends.filter((b) => !named.has(b.group))) {
      out.push(
        cause("network-endpoint-group", b.group, "neg-not-the-services",
          `Backend service ${b.backendService.name} uses NEG ${b.group}, which Service ${svcName(ctx)}'s neg-status does not name (${list([...named])}): it is another Service's NEG, or an old one.`,
          [{ source: `kubernetes service ${svcName(ctx)}`, detail: `cloud.google.com/neg-status=${status.raw}` }, { source: `compute backendServices/${b.backendService.name}`, detail: `backends[].group=${b.group}` }],
          "the Ingress's backend for this path should be the Service whose neg-status names the NEG; check the Ingress rules and the backend service's description (kubernetes.io/service-name)",
          ["C10"]),
      );
    }
  }
  return out;
}

function endpointCauses(ctx: CheckContext, v: NegPathView): Cause[] {
  const out: Cause[] = [];
  if (v.unreadEndpoints.length > 0 || v.negBackends.some((b) => !b.neg)) return out;
  const actual = new Set(v.actual.map((e) => e.key));
  const expected = new Set(v.expected.map((e) => e.key));
  const missing = v.expected.filter((e) => !actual.has(e.key));
  const stale = v.actual.filter((e) => !expected.has(e.key));
  const negOf = (node?: string) => {
    const zone = node ? v.nodeZone.get(node) : undefined;
    return v.negBackends.find((b) => (b.zone ?? b.neg?.zone) === zone)?.group ?? v.negBackends[0]?.group ?? "(no NEG)";
  };
  const byNeg = new Map<string, typeof missing>();
  for (const e of missing) byNeg.set(negOf(e.node), [...(byNeg.get(negOf(e.node)) ?? []), e]);
  for (const [neg, eps] of byNeg) {
    // a zone with no NEG at all is neg-zone-without-backend, said once there
    if (!v.negBackends.some((b) => b.group === neg && (b.zone ?? b.neg?.zone) === v.nodeZone.get(eps[0]!.node ?? ""))) continue;
    out.push(
      cause("network-endpoint-group", neg, "neg-endpoints-missing",
        `NEG ${neg} lacks ${list(eps.map((e) => `${e.key} (${e.pod ?? "?"})`))}, which the Service's EndpointSlices list: the LB never sends to ${eps.length === 1 ? "that pod" : "those pods"}; the NEG controller is behind.`,
        [...eps.map((e) => ({ source: "kubernetes endpointslices", detail: `${e.key} ${e.pod ?? ""}${e.waiting ? " (waiting for its NEG readiness gate)" : " ready"}` })), ...controllerEvidence(ctx)],
        `the NEG controller adds endpoints as pods become ready; if its svcneg Synced condition is False or the Service has Warning events, fix what they say (often quota, or IAM of the GKE service agent); \`kubectl get svcneg -n ${ctx.service?.namespace ?? "NS"} -o yaml\` shows it`,
        ["C10", "C11", "C12"]),
    );
  }
  const staleByNeg = new Map<string, typeof stale>();
  for (const e of stale) staleByNeg.set(e.neg.name, [...(staleByNeg.get(e.neg.name) ?? []), e]);
  for (const [neg, eps] of staleByNeg) {
    out.push(
      cause("network-endpoint-group", neg, "neg-endpoints-stale",
        `NEG ${neg} still holds ${list(eps.map((e) => `${e.key}${e.health ? ` (${e.health})` : ""}`))}, which ${eps.length === 1 ? "is" : "are"} not a ready endpoint of the Service (a deleted or moved pod): the LB may send there.`,
        [...eps.map((e) => ({ source: `compute networkEndpointGroups/${e.neg.name}`, detail: `endpoint ${e.key} on ${e.instance ?? "?"}`, resource: e.neg.name })), ...controllerEvidence(ctx)],
        "the NEG controller detaches endpoints of pods that are gone; when it lags, its error is in the svcneg conditions and the Service's events; a stuck endpoint can be detached by hand (gcloud compute network-endpoint-groups detach-network-endpoints)",
        ["C10", "C11"]),
    );
  }
  return out;
}

function healthCheckCauses(ctx: CheckContext, v: NegPathView): Cause[] {
  const out: Cause[] = [];
  const lb = ctx.model.loadBalancer;
  const unhealthy = v.actual.filter((e) => e.health !== undefined && e.health !== "HEALTHY");
  if (!lb || v.podPort === undefined) return out;
  for (const bs of v.backendServices) {
    for (const name of bs.healthChecks) {
      const hc = lb.healthChecks?.find((h) => h.name === name);
      if (!hc) continue;
      const evidence: Evidence[] = [{ source: `compute healthChecks/${hc.name}`, detail: `type=${hc.type}, port=${hc.port ?? "(serving port)"}, portSpecification=${hc.portSpecification ?? "(unset)"}, requestPath=${hc.requestPath ?? "/"}`, resource: hc.name }];
      const fixedPort = hc.portSpecification !== "USE_SERVING_PORT" && hc.port !== undefined ? hc.port : undefined;
      if (fixedPort !== undefined && fixedPort !== v.podPort) {
        out.push(
          cause("health-check", hc.name, "neg-health-check-wrong-port",
            `Health check ${hc.name} probes port ${fixedPort}, but the pods serve p-port ${v.podPort}: on a NEG path the health checkers probe each endpoint p-ip directly, so ${unhealthy.length ? `the endpoints are ${list([...new Set(unhealthy.map((e) => e.health!))])}` : "they cannot see the pods serve"}.`,
            [...evidence, ...unhealthy.map((e) => ({ source: e.healthSource ?? `compute networkEndpointGroups/${e.neg.name}`, detail: `${e.key}: ${e.health}` }))],
            "use portSpecification USE_SERVING_PORT (the controller's default) or set BackendConfig healthCheck.port to p-port; the controller rewrites a health check edited by hand",
            ["C11", "C12"]),
        );
        continue;
      }
      if (unhealthy.length === 0) continue;
      const probePaths = [...new Set(ctx.pods.map((p) => p.readinessProbe?.path).filter((p): p is string => p !== undefined))];
      const path = hc.requestPath ?? "/";
      if (probePaths.length > 0 && !probePaths.includes(path)) {
        out.push(
          cause("health-check", hc.name, "neg-health-check-wrong-path",
            `Health check ${hc.name} asks for ${path}, but the pods' readiness probe serves ${list(probePaths)}; the endpoints are ${list([...new Set(unhealthy.map((e) => e.health!))])}.`,
            [...evidence, ...ctx.pods.filter((p) => p.readinessProbe).map((p) => ({ source: `kubernetes pod ${p.name}`, detail: `readinessProbe.httpGet.path=${p.readinessProbe!.path ?? "/"}` }))],
            "the controller copies the readiness probe's path into the health check when the probe exists at the time the Ingress is synced; set BackendConfig healthCheck.requestPath, or make the path answer 200",
            ["C11", "C12"]),
        );
      }
    }
  }
  return out;
}

function firewallCauses(ctx: CheckContext, v: NegPathView): Cause[] {
  const lb = ctx.model.loadBalancer;
  if (!lb || v.podPort === undefined || (lb.firewalls === undefined && lb.healthCheckFirewalls.length === 0)) return [];
  const rules = [...(lb.firewalls ?? []), ...lb.healthCheckFirewalls];
  const nodes = [...new Set([...v.actual.map((e) => e.instance), ...ctx.pods.filter((p) => p.ready).map((p) => p.nodeName)].filter((n): n is string => n !== undefined))].sort();
  const denied: { node: string; text: string }[] = [];
  for (const node of nodes) {
    const vm = lb.instances.find((i) => i.name === node);
    if (!vm) continue;
    for (const range of HEALTH_CHECK_RANGES) {
      const d = decide(rules, vm, range, v.podPort, lb.network);
      if (d.action !== "allow") denied.push({ node, text: decisionText(d) });
    }
  }
  if (denied.length === 0) return [];
  const unhealthy = v.actual.filter((e) => e.health !== undefined && e.health !== "HEALTHY");
  return [
    cause("firewall", [...new Set(denied.map((d) => d.node))].join(", "), "neg-firewall-pod-port",
      `No firewall rule admits the health checkers (${HEALTH_CHECK_RANGES.join(", ")}) to the pods on p-port ${v.podPort}: on a NEG path the LB reaches p-ip:p-port, not n-port, so a rule for n-port does not help${unhealthy.length ? `; the endpoints are ${list([...new Set(unhealthy.map((e) => e.health!))])}` : ""}.`,
      denied.map((d) => ({ source: "compute firewalls", detail: d.text, node: d.node })),
      `allow tcp:${v.podPort} from ${HEALTH_CHECK_RANGES.join(",")} to the nodes' network tag (gcloud compute firewall-rules create ... --allow tcp:${v.podPort} --source-ranges ${HEALTH_CHECK_RANGES.join(",")} --target-tags NODE_TAG); ingress-gce's own rule k8s-fw-l7--<uid> should carry p-port but leaves it out when the Service's targetPort is a name (kubernetes/ingress-gce#1461, #703)${typeof ctx.port?.targetPort === "string" && !/^\d+$/.test(ctx.port.targetPort) ? `, as here (targetPort ${ctx.port.targetPort}): a numeric targetPort also fixes it` : ""}, and cannot write it where it may not manage firewalls (Shared VPC)`,
      ["C11", "C12"]),
  ];
}

function gateCauses(ctx: CheckContext): Cause[] {
  const out: Cause[] = [];
  for (const pod of ctx.pods) {
    const gate = negGate(pod);
    if (!gate.has) continue;
    const c = gate.condition;
    const evidence: Evidence[] = [{ source: `kubernetes pod ${pod.name}`, detail: `spec.readinessGates: ${NEG_READINESS_GATE}; status.conditions: ${c ? `${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? ` "${c.message}"` : ""}` : "not set"}`, ...(pod.nodeName ? { node: pod.nodeName } : {}) }];
    if (!c || c.status !== "True") {
      out.push(
        cause("pod", pod.name, "neg-readiness-gate-stuck",
          `Pod ${pod.name}'s readiness gate ${NEG_READINESS_GATE} is ${c?.status ?? "not set"}: the NEG controller has not seen it HEALTHY in its NEG, so the pod is not Ready and a rolling update waits on it.`,
          [...evidence, ...controllerEvidence(ctx)],
          "the gate follows the endpoint's health: fix what keeps it from HEALTHY (the firewall to p-port, the health check's port and path, the endpoint missing from the NEG); after the controller's timeout it turns True anyway, without the LB's word",
          ["C11"]),
      );
    } else if (c.reason === NEG_GATE_REASONS.timeout || c.reason === NEG_GATE_REASONS.withoutHealthCheck) {
      out.push(
        cause("pod", pod.name, c.reason === NEG_GATE_REASONS.timeout ? "neg-readiness-gate-timeout" : "neg-readiness-gate-unchecked",
          c.reason === NEG_GATE_REASONS.timeout
            ? `Pod ${pod.name}'s readiness gate turned True by timeout (${NEG_GATE_REASONS.timeout}), not because the LB saw it healthy: it counts as Ready while the LB may not send to it.`
            : `Pod ${pod.name}'s readiness gate is True because no backend service health-checks its NEG (${NEG_GATE_REASONS.withoutHealthCheck}): the LB never vouched for it.`,
          evidence,
          "look at the endpoint's health (gcloud compute backend-services get-health) and fix why it is not HEALTHY; the gate is set again when the pod is re-created",
          ["C11"]),
      );
    }
  }
  return out;
}
