// C9..C11: the Google Cloud load balancer the Ingress made, read from the Compute API.
import type { BackendServiceModel, CheckResult, Evidence, FirewallRuleModel, Verdict } from "../model";
import { cidrCovers, isPublicIPv4 } from "./ip";
import { problemText, type CheckContext } from "./context";
import { combine, list, result } from "./verdict";

export const CLAIMS = {
  C9: "The Ingress made a load balancer outside the cluster: a forwarding rule with a public IP",
  C10: "The URL map's default backend is the Service's port, served on named port n-port of the node instance groups",
  C11: "The health-check firewall lets the Google front ends in and every backend is HEALTHY",
};

/** Health checks and the Google front end come from these ranges (GCP documentation). */
export const HEALTH_CHECK_RANGES = ["130.211.0.0/22", "35.191.0.0/16"];

/** The last path segment of a Compute resource URL ("…/backendServices/x" -> "x"). */
export const baseName = (urlOrName: string) => urlOrName.split("/").filter(Boolean).pop() ?? urlOrName;

function missingLb(ctx: CheckContext, what: string): string {
  const why = problemText(ctx.model, ["gcp", "lab"]);
  const annotations = ctx.model.kubernetes?.ingress?.annotations ?? ctx.model.loadBalancer?.annotations;
  const hint =
    annotations && !Object.keys(annotations).some((k) => k.startsWith("ingress.kubernetes.io/"))
      ? "the Ingress has no ingress.kubernetes.io/* annotations yet (the controller needs a few minutes after `pulumi up`)"
      : undefined;
  return `${what} was not read: ${list([...why, ...(hint ? [hint] : [])])}`;
}

export function checkC9(ctx: CheckContext): CheckResult {
  const lb = ctx.model.loadBalancer;
  const fr = lb?.forwardingRule;
  if (!fr) return result("C9", CLAIMS.C9, "cannot-tell", missingLb(ctx, "The forwarding rule"), []);
  const lab = ctx.model.target.kind === "lab";
  const evidence: Evidence[] = [
    {
      source: `compute ${fr.global ? "globalForwardingRules" : "forwardingRules"}/${fr.name}`,
      resource: fr.name,
      detail: `IPAddress=${fr.ipAddress}, IPProtocol=${fr.ipProtocol}, portRange=${fr.portRange ?? "(all)"}, loadBalancingScheme=${fr.loadBalancingScheme ?? "(unset)"}, target=${fr.target}`,
    },
  ];
  const failures: string[] = [];
  const parts: Verdict[] = [];
  if (fr.loadBalancingScheme && fr.loadBalancingScheme.startsWith("INTERNAL")) failures.push(`loadBalancingScheme is ${fr.loadBalancingScheme}, not external`);
  if (!isPublicIPv4(fr.ipAddress)) {
    if (lab) evidence.push({ source: "lab", detail: `${fr.ipAddress} is the lab LB's address; in the lab a private address stands in for the public IP` });
    else failures.push(`${fr.ipAddress} is not a public address`);
  }
  const proxy = lb!.targetProxy;
  if (proxy) {
    evidence.push({ source: `compute targetHttp${proxy.kind === "https" ? "s" : ""}Proxies/${proxy.name}`, resource: proxy.name, detail: `urlMap=${proxy.urlMap}` });
    if (baseName(fr.target) !== proxy.name) failures.push(`the forwarding rule targets ${baseName(fr.target)}, not the Ingress's proxy ${proxy.name}`);
  } else parts.push("cannot-tell");
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
      ? `Forwarding rule ${fr.name} (${fr.loadBalancingScheme ?? "external"}) listens on ${fr.ipAddress}:${fr.portRange ?? "all ports"}${lab ? " (lab address)" : ""}, outside the cluster.`
      : `Forwarding rule ${fr.name} has ${fr.ipAddress}, but the target proxy was not read: ${list(problemText(ctx.model, ["gcp", "lab"]))}`;
  return result("C9", CLAIMS.C9, verdict, summary, evidence);
}

/** The backend service the URL map sends to by default, when it was read. */
export function defaultBackendService(ctx: CheckContext): BackendServiceModel | undefined {
  const name = ctx.model.loadBalancer?.urlMap?.defaultService;
  return name ? ctx.model.loadBalancer?.backendServices.find((b) => b.name === baseName(name)) : undefined;
}

export function checkC10(ctx: CheckContext): CheckResult {
  if (ctx.mode.neg.detected) {
    return result("C10", CLAIMS.C10, "cannot-tell", `Not on this cluster's path: ${ctx.mode.neg.explanation}`, ctx.mode.neg.evidence);
  }
  const lb = ctx.model.loadBalancer;
  if (!lb?.urlMap) return result("C10", CLAIMS.C10, "cannot-tell", missingLb(ctx, "The URL map"), []);
  if (!ctx.port || ctx.nodePort === undefined) {
    return result("C10", CLAIMS.C10, "cannot-tell", `The Service's port and nodePort were not read: ${list(problemText(ctx.model, ["kubernetes", "lab"]))}`, []);
  }
  const nodePort = ctx.nodePort;
  const namedPort = `port${nodePort}`;
  const evidence: Evidence[] = [{ source: `compute urlMaps/${lb.urlMap.name}`, resource: lb.urlMap.name, detail: `defaultService=${lb.urlMap.defaultService ?? "(none)"}, hostRules=${lb.urlMap.hostRuleCount}, pathMatchers=${lb.urlMap.pathMatcherCount}` }];
  const failures: string[] = [];
  const ingress = ctx.model.kubernetes?.ingress;
  const svc = ctx.service!;
  if (ingress) {
    const def = ingress.defaultBackend;
    evidence.push({ source: `kubernetes ingress ${ingress.namespace}/${ingress.name}`, detail: def ? `spec.defaultBackend.service=${def.service}, port=${def.port}` : "no spec.defaultBackend" });
    if (!def) failures.push("the Ingress has no default backend");
    else if (def.service !== svc.name || (def.port !== ctx.port.port && def.port !== ctx.port.name)) {
      failures.push(`the Ingress's default backend is ${def.service}:${def.port}, not ${svc.name}:${ctx.port.port}`);
    }
  }
  evidence.push({ source: `kubernetes service ${svc.namespace}/${svc.name}`, detail: `spec.ports[]: port=${ctx.port.port}${ctx.port.name ? ` (${ctx.port.name})` : ""}, nodePort=${nodePort}, targetPort=${ctx.port.targetPort}` });
  const bs = defaultBackendService(ctx);
  if (!lb.urlMap.defaultService) failures.push("the URL map has no default service");
  else if (!bs) return result("C10", CLAIMS.C10, "cannot-tell", `Backend service ${baseName(lb.urlMap.defaultService)} was not read: ${list(problemText(ctx.model, ["gcp", "lab"]))}`, evidence);
  if (bs) {
    evidence.push({ source: `compute backendServices/${bs.name}`, resource: bs.name, detail: `portName=${bs.portName ?? "(unset)"}, port=${bs.port ?? "(unset)"}, backends=${list(bs.backends.map((b) => b.group))}` });
    const portOk = bs.portName !== undefined ? bs.portName === namedPort : bs.port === nodePort;
    if (!portOk) failures.push(`backend service ${bs.name} uses ${bs.portName ?? bs.port}, not ${namedPort}`);
    for (const backend of bs.backends) {
      const group = lb.instanceGroups.find((g) => g.name === baseName(backend.group));
      if (!group) {
        failures.push(`instance group ${baseName(backend.group)} was not read`);
        continue;
      }
      const np = group.namedPorts.find((p) => p.name === (bs.portName ?? namedPort));
      evidence.push({ source: `compute instanceGroups/${group.name} (${group.zone})`, resource: group.name, detail: `namedPorts=${list(group.namedPorts.map((p) => `${p.name}:${p.port}`))}` });
      if (!np) failures.push(`${group.name} has no named port ${bs.portName ?? namedPort}`);
      else if (np.port !== nodePort) failures.push(`${group.name} maps ${np.name} to ${np.port}, not ${nodePort}`);
    }
    if (bs.backends.length === 0) failures.push(`backend service ${bs.name} has no backends`);
  }
  if (failures.length > 0) return result("C10", CLAIMS.C10, "fail", failures.join("; "), evidence);
  return result(
    "C10",
    CLAIMS.C10,
    "pass",
    `The URL map sends everything to ${bs!.name}, which reaches ${svc.name}:${ctx.port.port} through named port ${namedPort}=${nodePort} on ${bs!.backends.map((b) => baseName(b.group)).join(", ")}.`,
    evidence,
  );
}

function allowsPort(rule: FirewallRuleModel, port: number): boolean {
  return rule.allowed.some((a) => {
    if (a.protocol !== "tcp" && a.protocol !== "all") return false;
    if (a.ports.length === 0) return true;
    return a.ports.some((p) => {
      const [lo, hi] = p.split("-").map(Number);
      return port >= lo && port <= (hi ?? lo);
    });
  });
}

export function checkC11(ctx: CheckContext): CheckResult {
  if (ctx.mode.neg.detected) {
    return result("C11", CLAIMS.C11, "cannot-tell", `Not on this cluster's path: ${ctx.mode.neg.explanation}`, ctx.mode.neg.evidence);
  }
  const lb = ctx.model.loadBalancer;
  if (!lb || lb.backendServices.length === 0) return result("C11", CLAIMS.C11, "cannot-tell", missingLb(ctx, "The backend service"), []);
  const evidence: Evidence[] = [];
  const failures: string[] = [];
  const parts: Verdict[] = [];
  const unknown: string[] = [];

  // Firewall: each range must reach every node VM on the nodePort.
  if (ctx.model.target.kind === "lab" && lb.healthCheckFirewalls.length === 0) {
    evidence.push({ source: "lab", detail: "the lab has no VPC firewall; its LB reaches the nodes directly" });
  } else if (ctx.nodePort === undefined) {
    parts.push("cannot-tell");
    unknown.push("the nodePort is unknown");
  } else {
    const nodePort = ctx.nodePort;
    const vms = lb.instances;
    for (const range of HEALTH_CHECK_RANGES) {
      const rules = lb.healthCheckFirewalls.filter(
        (r) =>
          r.direction === "INGRESS" &&
          !r.disabled &&
          r.sourceRanges.some((s) => cidrCovers(s, range)) &&
          (r.targetTags.length === 0 || (vms.length > 0 && vms.every((vm) => vm.networkTags.some((t) => r.targetTags.includes(t))))) &&
          allowsPort(r, nodePort),
      );
      if (rules.length === 0) failures.push(`no enabled firewall rule lets ${range} reach the node VMs on tcp:${nodePort}`);
      rules.forEach((r) =>
        evidence.push({
          source: `compute firewalls/${r.name}`,
          resource: r.name,
          detail: `sourceRanges=${r.sourceRanges.join(",")}, targetTags=${list(r.targetTags)}, allowed=${r.allowed.map((a) => `${a.protocol}:${a.ports.join(",") || "all"}`).join(" ")} (covers ${range})`,
        }),
      );
    }
  }

  // Health: the backend service on the path (the URL map default, else every one read).
  const services = defaultBackendService(ctx) ? [defaultBackendService(ctx)!] : lb.backendServices;
  for (const bs of services) {
    if (bs.health.length === 0) {
      parts.push("cannot-tell");
      unknown.push(`${bs.name} reported no backend health (${list(problemText(ctx.model, ["gcp", "lab"]))})`);
    }
    for (const h of bs.health) {
      evidence.push({ source: `compute backendServices/${bs.name} getHealth`, resource: bs.name, backend: `${baseName(h.group)}/${h.instance}`, node: h.instance, detail: `${baseName(h.group)}/${h.instance} ${h.ipAddress ?? ""}${h.port ? ":" + h.port : ""} ${h.state}` });
      if (h.state !== "HEALTHY") failures.push(`${h.instance} is ${h.state} in ${bs.name}`);
    }
  }
  if (failures.length > 0) return result("C11", CLAIMS.C11, "fail", failures.join("; "), evidence);
  const verdict = combine(["pass", ...parts]);
  if (verdict !== "pass") return result("C11", CLAIMS.C11, verdict, `Cannot tell: ${unknown.join("; ")}`, evidence);
  const healthy = services.flatMap((s) => s.health).length;
  return result(
    "C11",
    CLAIMS.C11,
    "pass",
    `${ctx.model.target.kind === "lab" ? "The lab LB reaches the nodes" : `${HEALTH_CHECK_RANGES.join(" and ")} may reach the nodes on ${ctx.nodePort}`}; all ${healthy} backends are HEALTHY.`,
    evidence,
  );
}
