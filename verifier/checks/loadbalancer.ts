// C9..C11: the Google Cloud load balancer the Ingress made, read from the Compute API. The
// backend services judged are those the URL map sends the Service's path(s) to (host rules and
// path matchers; defaultService is only the fallback), instance groups are matched by zone and
// name, and the firewall is evaluated as the VPC evaluates it (./firewall.ts).
import type { BackendServiceModel, CheckResult, Evidence, FirewallRuleModel, InstanceGroupModel, LoadBalancerModel, Verdict } from "../model";
import { checkNegC10, checkNegC11 } from "./neg-path";
import { isPublicIPv4 } from "./ip";
import { problemText, type CheckContext } from "./context";
import { decide, decisionText, HEALTH_CHECK_RANGES as RANGES, ruleText } from "./firewall";
import { combine, list, result } from "./verdict";

export const CLAIMS = {
  C9: "The Ingress made a load balancer outside the cluster: a forwarding rule with a public IP",
  C10: "The URL map sends the Service's path to its backend service, served on named port n-port of the node instance groups",
  C11: "The health-check firewall lets the Google front ends in and every backend is HEALTHY",
};

/** Health checks and the Google front end come from these ranges (GCP documentation). */
export const HEALTH_CHECK_RANGES = [...RANGES];

/** The last path segment of a Compute resource URL ("…/backendServices/x" -> "x"). */
export const baseName = (urlOrName: string) => urlOrName.split("/").filter(Boolean).pop() ?? urlOrName;

/** The Ingress's Warning events, quoted: the controller's own reason when the LB is missing or partial. */
export function ingressWarnings(ctx: CheckContext): { text: string; evidence: Evidence[] } {
  const ingress = ctx.model.kubernetes?.ingress;
  const warnings = (ctx.model.kubernetes?.events ?? []).filter((e) => e.type === "Warning" && (!ingress || e.involvedObject === `Ingress/${ingress.namespace}/${ingress.name}`));
  // the latest of each distinct message, newest last
  const unique = [...new Map(warnings.map((w) => [`${w.reason}\n${w.message}`, w])).values()];
  return {
    text: unique.map((w) => `${w.reason}: "${w.message}"${w.count && w.count > 1 ? ` (×${w.count})` : ""}`).join("; "),
    evidence: unique.map((w) => ({ source: `kubernetes event ${w.involvedObject}`, detail: `type=Warning reason=${w.reason}${w.count ? ` count=${w.count}` : ""}${w.lastTimestamp ? ` lastTimestamp=${w.lastTimestamp}` : ""} message="${w.message}"` })),
  };
}

/** Service type ClusterIP on the instance-group path: ingress-gce never makes a backend for it (ErrBadSvcType). */
export function clusterIpService(ctx: CheckContext): boolean {
  return ctx.service?.type === "ClusterIP" && !ctx.mode.neg.detected;
}

function missingLb(ctx: CheckContext, what: string): string {
  const why = problemText(ctx.model, ["gcp", "lab"]);
  const warnings = ingressWarnings(ctx).text;
  const reasons = [...why];
  if (clusterIpService(ctx)) {
    reasons.push(`Service ${ctx.service!.namespace}/${ctx.service!.name} is type ClusterIP, so the controller will not make a load balancer for it (it needs NodePort, LoadBalancer, or NEG)`);
  }
  if (warnings) reasons.push(`the controller says: ${warnings}`);
  const annotations = ctx.model.kubernetes?.ingress?.annotations ?? ctx.model.loadBalancer?.annotations;
  const noAnnotations = annotations && !Object.keys(annotations).some((k) => k.startsWith("ingress.kubernetes.io/"));
  if (noAnnotations && !why.some((w) => /ingress\.kubernetes\.io\/\* annotations/.test(w))) reasons.push("the Ingress has no ingress.kubernetes.io/* annotations: the controller has not made a load balancer");
  return `${what} was not read: ${list(reasons)}`;
}

/** The backend service the URL map sends to by default, when it was read. */
export function defaultBackendService(ctx: CheckContext): BackendServiceModel | undefined {
  const name = ctx.model.loadBalancer?.urlMap?.defaultService;
  return name ? ctx.model.loadBalancer?.backendServices.find((b) => b.name === baseName(name)) : undefined;
}

/**
 * The backend services on the Service's path: those the URL map routes its path(s) to; without a
 * URL map, those made for the Service (description), else every one read.
 */
export function pathBackendServices(ctx: CheckContext): BackendServiceModel[] {
  const route = ctx.mode.route;
  if (route.known) return route.backendServices;
  const lb = ctx.model.loadBalancer;
  const svc = ctx.service;
  const mine = svc ? (lb?.backendServices ?? []).filter((b) => b.kubernetesService?.service === `${svc.namespace}/${svc.name}`) : [];
  return mine.length > 0 ? mine : (lb?.backendServices ?? []);
}

/** The instance group a backend links: by zone and name (a regional cluster has one per zone, same name). */
export function groupOf(lb: LoadBalancerModel, backend: { group: string; zone?: string }): InstanceGroupModel | undefined {
  const name = baseName(backend.group);
  return lb.instanceGroups.find((g) => g.name === name && (backend.zone === undefined || g.zone === backend.zone));
}

export function checkC9(ctx: CheckContext): CheckResult {
  const lb = ctx.model.loadBalancer;
  const fr = lb?.forwardingRule;
  if (!fr) return result("C9", CLAIMS.C9, "cannot-tell", missingLb(ctx, "The forwarding rule"), ingressWarnings(ctx).evidence);
  const lab = ctx.model.target.kind === "lab";
  const evidence: Evidence[] = [
    {
      source: `compute ${fr.global ? "globalForwardingRules" : `regions/${fr.region ?? "?"}/forwardingRules`}/${fr.name}`,
      resource: fr.name,
      detail: `IPAddress=${fr.ipAddress}, IPProtocol=${fr.ipProtocol}, portRange=${fr.portRange ?? "(all)"}, loadBalancingScheme=${fr.loadBalancingScheme ?? "(unset)"}, target=${fr.target}`,
    },
  ];
  const failures: string[] = [];
  const parts: Verdict[] = [];
  // gce-internal makes an internal Application Load Balancer on purpose: a private address is a fact about it
  const internalClass = ctx.model.kubernetes?.ingress?.className === "gce-internal" || lb!.annotations["kubernetes.io/ingress.class"] === "gce-internal";
  if (internalClass) {
    evidence.push({ source: "kubernetes ingress class", detail: `gce-internal: an internal load balancer (${fr.loadBalancingScheme ?? "INTERNAL_MANAGED"}) on ${fr.ipAddress}, reachable from the VPC only; that is what this class makes, not a fault` });
  } else if (fr.loadBalancingScheme && fr.loadBalancingScheme.startsWith("INTERNAL")) failures.push(`loadBalancingScheme is ${fr.loadBalancingScheme}, not external`);
  if (!isPublicIPv4(fr.ipAddress) && !internalClass) {
    if (lab) evidence.push({ source: "lab", detail: `${fr.ipAddress} is the lab LB's address; in the lab a private address stands in for the public IP` });
    else failures.push(`${fr.ipAddress} is not a public address`);
  }
  const proxy = lb!.targetProxy;
  if (proxy) {
    evidence.push({ source: `compute ${proxy.region ? `regions/${proxy.region}/` : ""}targetHttp${proxy.kind === "https" ? "s" : ""}Proxies/${proxy.name}`, resource: proxy.name, detail: `urlMap=${proxy.urlMap}` });
    if (baseName(fr.target) !== proxy.name) failures.push(`the forwarding rule targets ${baseName(fr.target)}, not the Ingress's proxy ${proxy.name}`);
  } else parts.push("cannot-tell");
  const redirect = lb!.redirect;
  if (redirect) {
    const r = redirect.urlMap?.defaultUrlRedirect;
    evidence.push({
      source: `compute urlMaps/${redirect.urlMap?.name ?? redirect.targetProxy?.urlMap ?? "(redirect URL map)"}`,
      detail: `HTTP frontend ${redirect.forwardingRule?.name ?? "?"} -> ${redirect.targetProxy?.name ?? "?"} only redirects (ingress.kubernetes.io/redirect-url-map${r ? `: httpsRedirect=${r.httpsRedirect ?? false}, redirectResponseCode=${r.redirectResponseCode ?? "(default)"}` : ""}); the HTTPS frontend ${fr.name} serves`,
    });
  }
  const ingress = ctx.model.kubernetes?.ingress;
  if (ingress) {
    evidence.push({ source: `kubernetes ingress ${ingress.namespace}/${ingress.name}`, detail: `status.loadBalancer.ingress[].ip=${list(ingress.loadBalancerIps)}` });
    if (ingress.loadBalancerIps.length > 0 && !ingress.loadBalancerIps.includes(fr.ipAddress)) failures.push(`the Ingress reports ${list(ingress.loadBalancerIps)}, the forwarding rule has ${fr.ipAddress}`);
  }
  const expectedIp = ctx.model.target.loadBalancerIp;
  if (expectedIp && expectedIp !== fr.ipAddress) failures.push(`the stack output loadBalancerIp is ${expectedIp}, the forwarding rule has ${fr.ipAddress}`);
  if (failures.length > 0) return result("C9", CLAIMS.C9, "fail", failures.join("; "), evidence);
  const verdict = combine(["pass", ...parts]);
  const summary =
    verdict === "pass"
      ? `Forwarding rule ${fr.name} (${fr.loadBalancingScheme ?? "external"}) listens on ${fr.ipAddress}:${fr.portRange ?? "all ports"}${lab ? " (lab address)" : ""}, outside the cluster${redirect ? `; ${redirect.forwardingRule?.name ?? "the HTTP frontend"} redirects HTTP to it` : ""}.`
      : `Forwarding rule ${fr.name} has ${fr.ipAddress}, but the target proxy was not read: ${list(problemText(ctx.model, ["gcp", "lab"]))}`;
  return result("C9", CLAIMS.C9, verdict, summary, evidence);
}

function urlMapEvidence(ctx: CheckContext): Evidence[] {
  const lb = ctx.model.loadBalancer!;
  const um = lb.urlMap!;
  const evidence: Evidence[] = [
    { source: `compute ${um.region ? `regions/${um.region}/` : ""}urlMaps/${um.name}`, detail: `defaultService=${um.defaultService ?? "(none)"}, hostRules=${um.hostRuleCount}, pathMatchers=${um.pathMatcherCount}` },
  ];
  for (const step of ctx.mode.route.steps) {
    evidence.push({ source: `compute urlMaps/${um.name}`, detail: `host ${step.host} path ${step.path} -> ${step.backendService ?? "(nothing)"} (${step.via})`, ...(step.backendService ? { resource: step.backendService } : {}) });
  }
  return evidence;
}

export function checkC10(ctx: CheckContext): CheckResult {
  // the container-native path: C10 reads as docs/neg.md says (checks/neg-path.ts)
  if (ctx.mode.neg.detected) return checkNegC10(ctx, ctx.model.loadBalancer?.urlMap ? urlMapEvidence(ctx) : []);
  const lb = ctx.model.loadBalancer;
  if (!lb?.urlMap) return result("C10", CLAIMS.C10, "cannot-tell", missingLb(ctx, "The URL map"), ingressWarnings(ctx).evidence);
  if (!ctx.port || ctx.nodePort === undefined) {
    return result("C10", CLAIMS.C10, "cannot-tell", `The Service's port and nodePort were not read: ${list(problemText(ctx.model, ["kubernetes", "lab"]))}`, []);
  }
  const nodePort = ctx.nodePort;
  const namedPort = `port${nodePort}`;
  const evidence = urlMapEvidence(ctx);
  const failures: string[] = [];
  const parts: Verdict[] = [];
  const unknown: string[] = [];
  const ingress = ctx.model.kubernetes?.ingress;
  const svc = ctx.service!;
  const route = ctx.mode.route;
  if (ingress) {
    const def = ingress.defaultBackend;
    const paths = (ingress.rules ?? []).flatMap((r) => r.paths.map((p) => `${r.host ?? "*"}${p.path ?? ""} -> ${p.service}:${p.port}`));
    evidence.push({ source: `kubernetes ingress ${ingress.namespace}/${ingress.name}`, detail: `spec.defaultBackend=${def ? `${def.service}:${def.port}` : "(none)"}${paths.length ? `, rules: ${paths.join(", ")}` : ""}` });
    if (route.from === "root") failures.push(`the Ingress sends no path to Service ${svc.name}${def ? ` (its default backend is ${def.service}:${def.port})` : ""}`);
    else if (def && def.service === svc.name && def.port !== ctx.port.port && def.port !== ctx.port.name) failures.push(`the Ingress's default backend is ${def.service}:${def.port}, not ${svc.name}:${ctx.port.port}`);
  }
  evidence.push({ source: `kubernetes service ${svc.namespace}/${svc.name}`, detail: `spec.ports[]: port=${ctx.port.port}${ctx.port.name ? ` (${ctx.port.name})` : ""}, nodePort=${nodePort}, targetPort=${ctx.port.targetPort}` });
  if (route.names.length === 0) failures.push(`the URL map sends the Service's path to no backend service`);
  for (const name of route.names) {
    const bs = route.backendServices.find((b) => b.name === name);
    if (!bs) {
      parts.push("cannot-tell");
      unknown.push(`backend service ${name} was not read (${list(problemText(ctx.model, ["gcp", "lab"]))})`);
      continue;
    }
    evidence.push({ source: `compute ${bs.region ? `regions/${bs.region}/` : ""}backendServices/${bs.name}`, detail: `portName=${bs.portName ?? "(unset)"}, port=${bs.port ?? "(unset)"}, backends=${list(bs.backends.map((b) => `${b.zone ? b.zone + "/" : ""}${b.group}`))}${bs.kubernetesService ? `, made for ${bs.kubernetesService.service}:${bs.kubernetesService.port ?? "?"}` : ""}`, resource: bs.name });
    const wanted = `${svc.namespace}/${svc.name}`;
    if (bs.kubernetesService && bs.kubernetesService.service !== wanted && bs.kubernetesService.service !== svc.name) {
      failures.push(`the URL map sends the Service's path to ${bs.name}, which the controller made for ${bs.kubernetesService.service}, not ${wanted}`);
    }
    const portOk = bs.portName !== undefined ? bs.portName === namedPort : bs.port === nodePort;
    if (!portOk) failures.push(`backend service ${bs.name} uses ${bs.portName ?? bs.port}, not ${namedPort}`);
    for (const backend of bs.backends.filter((b) => b.kind === "instanceGroup")) {
      const group = groupOf(lb, backend);
      const where = `${backend.zone ? backend.zone + "/" : ""}${baseName(backend.group)}`;
      if (!group) {
        parts.push("cannot-tell");
        unknown.push(`instance group ${where} was not read`);
        continue;
      }
      const np = group.namedPorts.find((p) => p.name === (bs.portName ?? namedPort));
      evidence.push({ source: `compute instanceGroups/${group.name} (${group.zone})`, detail: `namedPorts=${list(group.namedPorts.map((p) => `${p.name}:${p.port}`))}`, resource: `${group.zone}/${group.name}` });
      if (!np) failures.push(`instance group ${group.name} in ${group.zone} has no named port ${bs.portName ?? namedPort}`);
      else if (np.port !== nodePort) failures.push(`instance group ${group.name} in ${group.zone} maps ${np.name} to ${np.port}, not ${nodePort}`);
    }
    if (bs.backends.length === 0) failures.push(`backend service ${bs.name} has no backends`);
  }
  if (failures.length > 0) return result("C10", CLAIMS.C10, "fail", failures.join("; "), evidence);
  if (combine(["pass", ...parts]) !== "pass") return result("C10", CLAIMS.C10, "cannot-tell", `Cannot tell: ${unknown.join("; ")}`, evidence);
  const services = route.backendServices;
  const groups = services.flatMap((b) => b.backends.map((g) => `${g.group}${g.zone ? ` (${g.zone})` : ""}`));
  return result(
    "C10",
    CLAIMS.C10,
    "pass",
    `The URL map sends ${route.from === "ingress" ? "the Service's path" : "/"} to ${services.map((b) => b.name).join(", ")}, which reaches ${svc.name}:${ctx.port.port} through named port ${namedPort}=${nodePort} on ${[...new Set(groups)].join(", ")}.`,
    evidence,
  );
}

/** The firewall rules to evaluate: every INGRESS rule of the network when read, plus the health-check ones (any network). */
export function firewallRules(lb: LoadBalancerModel): FirewallRuleModel[] {
  const byName = new Map<string, FirewallRuleModel>();
  for (const r of [...(lb.firewalls ?? []), ...lb.healthCheckFirewalls]) byName.set(`${r.network ?? ""}/${r.name}`, r);
  return [...byName.values()];
}

/**
 * The source ranges whose packets must reach the nodes on n-port: the health checkers' ranges, and
 * for a regional class the ACTIVE proxy-only subnet of the nodes' network (the regional proxies
 * send the requests from it; ingress-gce's firewall controller admits it as well).
 */
export function sourceRangesToCheck(lb: LoadBalancerModel): { range: string; what: string }[] {
  const ranges: { range: string; what: string }[] = HEALTH_CHECK_RANGES.map((range) => ({ range, what: "the health checkers" }));
  if (lb.region && lb.proxyOnlySubnets) {
    for (const subnet of lb.proxyOnlySubnets) {
      if ((subnet.role ?? "ACTIVE") !== "ACTIVE" || (lb.network && subnet.network && subnet.network !== lb.network) || !subnet.ipCidrRange) continue;
      ranges.push({ range: subnet.ipCidrRange, what: `the regional proxies (proxy-only subnet ${subnet.name})` });
    }
  }
  return ranges;
}

/** Nodes running no pod of the Service: under externalTrafficPolicy Local they fail health checks by design. */
export function podlessNodes(ctx: CheckContext): Set<string> {
  return new Set(ctx.nodes.filter((n) => n.pods.length === 0).map((n) => n.name));
}

export function checkC11(ctx: CheckContext): CheckResult {
  if (ctx.mode.neg.detected) return checkNegC11(ctx);
  const lb = ctx.model.loadBalancer;
  if (!lb || lb.backendServices.length === 0) return result("C11", CLAIMS.C11, "cannot-tell", missingLb(ctx, "The backend service"), ingressWarnings(ctx).evidence);
  const evidence: Evidence[] = [];
  const failures: string[] = [];
  const parts: Verdict[] = [];
  const unknown: string[] = [];
  const notes: string[] = [];

  // Firewall: what the VPC does with each health-check range's packets to every node VM on n-port.
  const rules = firewallRules(lb);
  if (ctx.model.target.kind === "lab" && rules.length === 0) {
    evidence.push({ source: "lab", detail: "the lab has no VPC firewall; its LB reaches the nodes directly" });
  } else if (ctx.nodePort === undefined) {
    parts.push("cannot-tell");
    unknown.push("the nodePort is unknown");
  } else if (lb.instances.length === 0) {
    parts.push("cannot-tell");
    unknown.push(`no node VM was read, so the firewall rules cannot be evaluated for them (${list(problemText(ctx.model, ["gcp"]))})`);
  } else {
    for (const { range } of sourceRangesToCheck(lb)) {
      const decisions = lb.instances.map((vm) => decide(rules, vm, range, ctx.nodePort!, lb.network));
      const denied = decisions.filter((d) => d.action === "deny");
      if (denied.length > 0) {
        failures.push(`the VPC firewall drops ${range} to ${denied.map((d) => d.instance).join(", ")} on tcp:${ctx.nodePort} (${denied[0].rule ? `deny rule ${denied[0].rule.name}` : "no rule of the nodes' network allows it"})`);
      }
      for (const d of decisions) evidence.push({ source: `compute firewalls${d.rule ? `/${d.rule.name}` : ""}`, detail: decisionText(d), ...(d.rule ? { resource: d.rule.name } : {}), node: d.instance });
    }
    const deciding = new Set(evidence.map((e) => e.resource).filter((r): r is string => r !== undefined));
    for (const r of rules.filter((x) => deciding.has(x.name))) evidence.push({ source: `compute firewalls/${r.name}`, detail: ruleText(r), resource: r.name });
  }

  // Health checks the backend services name: what is probed.
  const services = pathBackendServices(ctx);
  for (const bs of services) {
    for (const name of bs.healthChecks) {
      const hc = lb.healthChecks?.find((h) => h.name === baseName(name));
      if (hc) evidence.push({ source: `compute healthChecks/${hc.name}`, detail: `type=${hc.type}, port=${hc.port ?? `(${hc.portSpecification ?? "serving port"})`}, requestPath=${hc.requestPath ?? "(none)"}`, resource: hc.name });
    }
  }

  // Health: the backend services on the Service's path.
  const local = ctx.service?.externalTrafficPolicy === "Local";
  const podless = podlessNodes(ctx);
  if (services.length === 0) {
    parts.push("cannot-tell");
    unknown.push(`the backend service on the Service's path was not read (${list(problemText(ctx.model, ["gcp", "lab"]))})`);
  }
  for (const bs of services) {
    if (bs.health.length === 0) {
      parts.push("cannot-tell");
      unknown.push(`${bs.name} reported no backend health (${list(problemText(ctx.model, ["gcp", "lab"]))})`);
    }
    const healthy = bs.health.filter((h) => h.state === "HEALTHY").length;
    for (const h of bs.health) {
      evidence.push({ source: `compute backendServices/${bs.name} getHealth`, detail: `${h.zone ? h.zone + "/" : ""}${baseName(h.group)}/${h.instance} ${h.ipAddress ?? ""}${h.port ? ":" + h.port : ""} ${h.state}${h.detail ? ` (${h.detail})` : ""}`, resource: bs.name, backend: `${baseName(h.group)}/${h.instance}`, node: h.instance });
      if (h.state === "HEALTHY") {
        // HEALTHY with a reason attached means recent checks failed: the node flaps, it is not healthy.
        if (h.detail) failures.push(`${h.instance} flaps in ${bs.name}: HEALTHY now, but ${h.detail}`);
        continue;
      }
      if (local && podless.has(h.instance) && healthy > 0) {
        notes.push(`${h.instance} runs no pod and externalTrafficPolicy is Local, so it fails the health check by design and the LB sends only to nodes with a pod`);
        continue;
      }
      failures.push(`${h.instance}${h.zone ? ` (${h.zone})` : ""} is ${h.state}${h.detail ? ` (${h.detail})` : ""} in ${bs.name}`);
    }
  }
  if (failures.length > 0) return result("C11", CLAIMS.C11, "fail", failures.join("; "), evidence);
  const verdict = combine(["pass", ...parts]);
  if (verdict !== "pass") return result("C11", CLAIMS.C11, verdict, `Cannot tell: ${unknown.join("; ")}`, evidence);
  const total = services.flatMap((s) => s.health).length;
  const healthyCount = services.flatMap((s) => s.health).filter((h) => h.state === "HEALTHY").length;
  return result(
    "C11",
    CLAIMS.C11,
    "pass",
    `${ctx.model.target.kind === "lab" && rules.length === 0 ? "The lab LB reaches the nodes" : `The VPC lets ${sourceRangesToCheck(lb).map((r) => r.range).join(" and ")} reach the nodes on ${ctx.nodePort}`}; ${healthyCount === total ? `all ${total} backends are HEALTHY` : `${healthyCount} of ${total} backends are HEALTHY`}${notes.length ? ` (${notes.join("; ")})` : ""}.`,
    evidence,
  );
}
