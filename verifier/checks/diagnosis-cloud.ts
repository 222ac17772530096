// Causes read from the Google Cloud and Kubernetes APIs: forwarding rule, target proxy, URL map,
// backend service, health check, firewall, instance group, Service, endpoints and pods. Pure: the
// model and the claims' results in, causes out. Every cause id here is listed in README
// ("Diagnosis causes"); the ingress-gce messages quoted are its own (pkg/controller/errors).
import type { BackendServiceModel, CheckResult, ClaimId, Diagnosis, DiagnosisHop, Evidence, FirewallRuleModel, HealthCheckModel, PodModel } from "../model";
import { NEG_READINESS_GATE } from "../neg";
import type { CheckContext } from "./context";
import { decide, decisionText, HEALTH_CHECK_RANGES, ruleText, type FirewallDecision } from "./firewall";
import { clusterIpService, firewallRules, sourceRangesToCheck, groupOf, ingressWarnings, pathBackendServices, podlessNodes } from "./loadbalancer";
import { list } from "./verdict";

type Cause = Omit<Diagnosis, "claims"> & { explains: ClaimId[] };

/** Causes on the load balancer's and the API objects' hops; [] when none is found. */
export function cloudCauses(ctx: CheckContext, results: CheckResult[]): Diagnosis[] {
  const failing = new Set(results.filter((r) => r.verdict === "fail").map((r) => r.id));
  const causes: Cause[] = [
    ...controllerCauses(ctx, failing),
    ...urlMapCauses(ctx),
    ...backendServiceCauses(ctx),
    ...healthCheckCauses(ctx),
    ...firewallCauses(ctx),
    ...instanceGroupCauses(ctx),
    ...serviceCauses(ctx, failing),
  ];
  return causes.map(({ explains, ...c }) => ({ ...c, claims: explains.filter((id) => failing.has(id)) }));
}

const cause = (hop: DiagnosisHop, subject: string, id: string, summary: string, evidence: Evidence[], fix: string, explains: ClaimId[]): Cause => ({ hop, subject, cause: id, summary, evidence, fix, explains });

const svcName = (ctx: CheckContext) => (ctx.service ? `${ctx.service.namespace}/${ctx.service.name}` : "the Service");

// ---------------------------------------------------------------- the controller made no (or a partial) LB

function controllerCauses(ctx: CheckContext, failing: Set<ClaimId>): Cause[] {
  const out: Cause[] = [];
  const kube = ctx.model.kubernetes;
  const ingress = kube?.ingress;
  const lb = ctx.model.loadBalancer;
  const warnings = ingressWarnings(ctx);
  const warningEvents = (kube?.events ?? []).filter((e) => e.type === "Warning" && (!ingress || e.involvedObject === `Ingress/${ingress.namespace}/${ingress.name}`));
  const lbClaims: ClaimId[] = ["C1", "C9", "C10", "C11", "C12"];

  if (clusterIpService(ctx)) {
    const svc = ctx.service!;
    const quoted = warningEvents.filter((e) => /is type "?ClusterIP"?/.test(e.message));
    out.push(
      cause(
        "service",
        `${svc.namespace}/${svc.name}`,
        "service-type-clusterip",
        `Service ${svc.namespace}/${svc.name} is type ClusterIP: it has s-ip:s-port but no n-port, so the controller never makes a backend for it on instance groups${quoted.length ? ` (it says: "${quoted[quoted.length - 1].message}")` : ""}; waiting will not help.`,
        [{ source: `kubernetes service ${svc.namespace}/${svc.name}`, detail: `spec.type=ClusterIP, ports=${list(svc.ports.map((p) => `${p.port}->${p.targetPort}`))}`, resource: `${svc.namespace}/${svc.name}` }, ...warnings.evidence.filter((e) => /ClusterIP/.test(e.detail))],
        "make it `type: NodePort` (the article's path: the LB reaches n-ip:n-port), or use container-native load balancing (annotation cloud.google.com/neg: '{\"ingress\": true}')",
        lbClaims,
      ),
    );
  }
  const missingService = warningEvents.map((e) => /could not find service "([^"]+)"/.exec(e.message)).find((m) => m !== null);
  if (missingService) {
    out.push(
      cause(
        "service",
        missingService[1],
        "ingress-service-not-found",
        `The Ingress sends traffic to Service ${missingService[1]}, which does not exist, so the controller cannot make its backend.`,
        warnings.evidence.filter((e) => e.detail.includes("could not find service")),
        `create the Service ${missingService[1]} or fix the Ingress's backend service name (kubectl get svc -n ${missingService[1].split("/")[0]})`,
        lbClaims,
      ),
    );
  }
  const lbMissing = ingress !== undefined && !lb?.forwardingRule;
  if (lbMissing && out.length === 0) {
    const name = `${ingress.namespace}/${ingress.name}`;
    const noAnnotations = !Object.keys(ingress.annotations).some((k) => k.startsWith("ingress.kubernetes.io/"));
    const proxyOnly = warningEvents.find((e) => /proxy-only subnetwork/i.test(e.message));
    if (proxyOnly) {
      const region = ctx.model.target.location ? ctx.model.target.location.replace(/-[a-z]$/, "") : "REGION";
      out.push(
        cause(
          "forwarding-rule",
          name,
          "proxy-only-subnet-missing",
          `Ingress ${name} is class ${ingress.className ?? "gce-internal"}, a regional load balancer whose proxies need a proxy-only subnet in the region and the nodes' VPC; there is none, so the controller cannot make the forwarding rule (it says: "${proxyOnly.message}").`,
          warnings.evidence.filter((e) => /proxy-only/i.test(e.detail)),
          `gcloud compute networks subnets create proxy-only-subnet --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region=${region} --network=NETWORK --range=10.129.0.0/23 (then the controller retries by itself)`,
          lbClaims,
        ),
      );
    } else if (warnings.text) {
      out.push(
        cause(
          "forwarding-rule",
          name,
          "lb-not-created",
          `The controller has not made the load balancer for Ingress ${name}; it says why: ${warnings.text}`,
          warnings.evidence,
          "fix what the events name (kubectl describe ingress shows them), then the controller retries by itself",
          lbClaims,
        ),
      );
    } else if (noAnnotations && kube?.events !== undefined) {
      const cls = ingress.className ?? "gce";
      out.push(
        cause(
          "forwarding-rule",
          name,
          "lb-not-created",
          `Ingress ${name} (class ${cls}) has no load balancer and the controller has left no Warning event: it is still being made (minutes after creation)${["gce", "gce-internal", "gce-regional-external", "gce-multi-cluster"].includes(cls) ? "" : `, or no controller handles class ${cls}`}.`,
          [{ source: `kubernetes ingress ${name}`, detail: `no ingress.kubernetes.io/* annotations; events: ${list((kube.events ?? []).map((e) => `${e.type} ${e.reason}`))}` }],
          "wait a few minutes and re-run; if it stays so, check the class (GKE's controller handles gce, gce-internal, gce-regional-external) and `kubectl describe ingress`",
          lbClaims,
        ),
      );
    }
  } else if (!lbMissing && warningEvents.length > 0 && out.length === 0 && ["C9", "C10", "C11", "C12"].some((id) => failing.has(id as ClaimId))) {
    // the LB exists but the controller keeps failing on part of it (a backend, a quota, a certificate)
    const recent = warningEvents.filter((e) => e.reason === "Sync" || e.reason === "Translate");
    if (recent.length > 0) {
      out.push(
        cause(
          "forwarding-rule",
          `${ingress!.namespace}/${ingress!.name}`,
          "controller-sync-error",
          `The controller reports errors while syncing the load balancer, so part of it may be stale: ${recent.map((e) => `${e.reason}: "${e.message}"`).join("; ")}`,
          warnings.evidence,
          "fix what the events name; `kubectl describe ingress` shows whether they still occur",
          ["C9", "C10", "C11"],
        ),
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------- URL map, backend service

function urlMapCauses(ctx: CheckContext): Cause[] {
  const lb = ctx.model.loadBalancer;
  const route = ctx.mode.route;
  if (!lb?.urlMap || !route.known || !ctx.service || ctx.mode.neg.detected) return [];
  const um = lb.urlMap;
  const evidence: Evidence[] = [
    { source: `compute urlMaps/${um.name}`, detail: `defaultService=${um.defaultService ?? "(none)"}; ${route.steps.map((s) => `host ${s.host} path ${s.path} -> ${s.backendService ?? "(nothing)"} (${s.via})`).join("; ")}`, resource: um.name },
  ];
  const ingress = ctx.model.kubernetes?.ingress;
  if (ingress && route.from === "root") {
    return [
      cause("url-map", um.name, "ingress-does-not-route-to-service", `Ingress ${ingress.namespace}/${ingress.name} sends no path to Service ${svcName(ctx)}, so the URL map ${um.name} has no route to its n-port.`, evidence, `add the Service to the Ingress (spec.defaultBackend or a rule's path)`, ["C10"]),
    ];
  }
  const wanted = svcName(ctx);
  const foreign = route.backendServices.filter((b) => b.kubernetesService && b.kubernetesService.service !== wanted && b.kubernetesService.service !== ctx.service!.name);
  if (route.names.length === 0 || foreign.length > 0) {
    return [
      cause(
        "url-map",
        um.name,
        "url-map-wrong-backend",
        route.names.length === 0
          ? `URL map ${um.name} sends the Service's path to no backend service.`
          : `URL map ${um.name} sends the Service's path to ${foreign.map((b) => `${b.name} (made for ${b.kubernetesService!.service})`).join(", ")}, not to ${wanted}'s backend service.`,
        evidence,
        "check the Ingress's rules (host and path) and the controller's events; the controller rewrites the URL map from the Ingress",
        ["C10", "C12"],
      ),
    ];
  }
  return [];
}

function backendServiceCauses(ctx: CheckContext): Cause[] {
  const out: Cause[] = [];
  // the container-native path has its own causes (diagnosis-neg.ts)
  if (ctx.mode.neg.detected) return out;
  if (ctx.nodePort === undefined) return out;
  const namedPort = `port${ctx.nodePort}`;
  for (const bs of pathBackendServices(ctx)) {
    if (bs.backends.length === 0 || bs.backends.some((b) => b.kind !== "instanceGroup")) continue;
    const ok = bs.portName !== undefined ? bs.portName === namedPort : bs.port === ctx.nodePort;
    if (ok) continue;
    out.push(
      cause(
        "backend-service",
        bs.name,
        "backend-service-wrong-port",
        `Backend service ${bs.name} sends to named port ${bs.portName ?? bs.port}, but the Service's n-port is ${ctx.nodePort} (named port ${namedPort}).`,
        [{ source: `compute backendServices/${bs.name}`, detail: `portName=${bs.portName ?? "(unset)"}, port=${bs.port ?? "(unset)"}`, resource: bs.name }],
        "the controller sets it from the Service's nodePort; check the Ingress's backend port matches the Service's port, and the controller's events",
        ["C10", "C11", "C12"],
      ),
    );
  }
  return out;
}

// ---------------------------------------------------------------- health check

function unhealthyOn(bs: BackendServiceModel) {
  return bs.health.filter((h) => h.state !== "HEALTHY");
}

/** The readiness probe the Service's pods declare (the first one found). */
function probeOf(pods: PodModel[]): { pod: string; path?: string; port?: number | string } | undefined {
  const pod = pods.find((p) => p.readinessProbe);
  return pod ? { pod: pod.name, path: pod.readinessProbe!.path, port: pod.readinessProbe!.port } : undefined;
}

function healthCheckCauses(ctx: CheckContext): Cause[] {
  const out: Cause[] = [];
  const lb = ctx.model.loadBalancer;
  if (!lb || ctx.mode.neg.detected) return out;
  const probe = probeOf(ctx.pods);
  const local = ctx.service?.externalTrafficPolicy === "Local";
  const podless = podlessNodes(ctx);
  for (const bs of pathBackendServices(ctx)) {
    const bad = unhealthyOn(bs).filter((h) => !(local && podless.has(h.instance)));
    if (bad.length === 0) continue;
    const hcs = bs.healthChecks.map((n) => lb.healthChecks?.find((h) => h.name === n.slice(n.lastIndexOf("/") + 1))).filter((h): h is HealthCheckModel => h !== undefined);
    for (const hc of hcs) {
      const hcEvidence: Evidence = { source: `compute healthChecks/${hc.name}`, detail: `type=${hc.type}, port=${hc.port ?? "(unset)"}, portSpecification=${hc.portSpecification ?? "(unset)"}, requestPath=${hc.requestPath ?? "(none)"}`, resource: hc.name };
      const healthEvidence: Evidence[] = bad.map((h) => ({ source: `compute backendServices/${bs.name} getHealth`, detail: `${h.zone ? h.zone + "/" : ""}${h.group}/${h.instance} ${h.ipAddress ?? ""}${h.port ? ":" + h.port : ""} ${h.state}${h.detail ? ` (${h.detail})` : ""}`, node: h.instance, resource: bs.name }));
      // port: on instance groups the health checker must probe n-port
      const fixedPort = hc.portSpecification === "USE_FIXED_PORT" || (hc.portSpecification === undefined && hc.port !== undefined);
      if (ctx.nodePort !== undefined && fixedPort && hc.port !== undefined && hc.port !== ctx.nodePort) {
        out.push(
          cause("health-check", hc.name, "health-check-port-mismatch", `Health check ${hc.name} probes port ${hc.port}, but the nodes serve the Service on n-port ${ctx.nodePort}, so every node fails it.`, [hcEvidence, ...healthEvidence], `let the controller own it (delete the manual change), or set its port to ${ctx.nodePort} / portSpecification USE_SERVING_PORT`, ["C11", "C12"]),
        );
        continue;
      }
      // what the path answers: the health checker's detail (lab) or a node's own probe of n-ip:n-port
      const answers: { node: string; status: number; evidence: Evidence }[] = [];
      for (const h of bad) {
        const m = /HTTP (\d{3})/.exec(h.detail ?? "");
        if (m && Number(m[1]) !== 200) answers.push({ node: h.instance, status: Number(m[1]), evidence: { source: `health checker on ${h.instance}`, detail: h.detail!, node: h.instance } });
      }
      for (const view of ctx.nodes) {
        for (const p of view.node?.probes ?? []) {
          if (p.target !== "node-port" || p.outcome.kind !== "http" || p.outcome.status === 200) continue;
          if (hc.requestPath && p.path !== hc.requestPath) continue;
          if (answers.some((a) => a.node === view.name)) continue;
          answers.push({ node: view.name, status: p.outcome.status, evidence: { source: `node ${view.name}: ${p.command}`, detail: `GET ${p.path} on ${p.address}:${p.port} -> HTTP ${p.outcome.status}${p.outcome.location ? ` (Location: ${p.outcome.location})` : ""}`, node: view.name } });
        }
      }
      const probeDiffers = probe && probe.path !== undefined && hc.requestPath !== undefined && probe.path !== hc.requestPath;
      const probeEvidence: Evidence[] = probe ? [{ source: `kubernetes pod ${probe.pod}`, detail: `readinessProbe.httpGet path=${probe.path ?? "(none)"} port=${probe.port ?? "(none)"}` }] : [];
      if (answers.length > 0) {
        const statuses = [...new Set(answers.map((a) => a.status))].join("/");
        out.push(
          cause(
            "health-check",
            hc.name,
            "health-check-path-not-200",
            `Health check ${hc.name} asks GET ${hc.requestPath ?? "/"} on n-port ${ctx.nodePort ?? "?"} and gets HTTP ${statuses} from ${answers.map((a) => a.node).join(", ")} (only 200 counts as healthy)${probe ? `; the pods' readiness probe uses ${probe.path ?? "(no path)"}` : ""}.`,
            [hcEvidence, ...answers.map((a) => a.evidence), ...probeEvidence, ...healthEvidence],
            probeDiffers
              ? `point the health check at the readiness probe's path ${probe!.path} (BackendConfig healthCheck.requestPath), or make ${hc.requestPath} answer 200`
              : `make the app answer 200 on ${hc.requestPath ?? "/"} (no redirect), or give the pods a readiness probe / BackendConfig healthCheck.requestPath on a path that does`,
            ["C11", "C12"],
          ),
        );
      } else if (probeDiffers) {
        out.push(
          cause(
            "health-check",
            hc.name,
            "health-check-path-mismatch",
            `Health check ${hc.name} asks GET ${hc.requestPath} but the pods' readiness probe checks ${probe!.path}: the controller copies the probe only when it creates the check, and ${bad.length} backend(s) fail it.`,
            [hcEvidence, ...probeEvidence, ...healthEvidence],
            `set the health check's path to ${probe!.path} (BackendConfig healthCheck.requestPath), or make ${hc.requestPath} answer 200`,
            ["C11", "C12"],
          ),
        );
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- firewall

function firewallCauses(ctx: CheckContext): Cause[] {
  const lb = ctx.model.loadBalancer;
  if (!lb || ctx.nodePort === undefined || lb.instances.length === 0 || ctx.mode.neg.detected) return [];
  const rules = firewallRules(lb);
  if (ctx.model.target.kind === "lab" && rules.length === 0) return [];
  const denied: FirewallDecision[] = [];
  const sources = sourceRangesToCheck(lb);
  for (const { range } of sources) for (const vm of lb.instances) {
    const d = decide(rules, vm, range, ctx.nodePort, lb.network);
    if (d.action === "deny") denied.push(d);
  }
  if (denied.length === 0) return [];
  const network = lb.network ?? lb.instances.find((i) => i.network)?.network;
  const groups = new Map<string, { id: string; subject: string; decisions: FirewallDecision[]; rule?: FirewallRuleModel }>();
  for (const d of denied) {
    let id: string;
    let subject: string;
    let rule: FirewallRuleModel | undefined;
    if (d.rule) {
      id = "firewall-deny-overrides";
      rule = d.rule;
      subject = d.rule.name;
    } else if (d.notCounted.some((n) => /is in network/.test(n.why))) {
      rule = d.notCounted.find((n) => /is in network/.test(n.why))!.rule;
      id = "firewall-other-network";
      subject = rule.name;
    } else if (d.notCounted.some((n) => n.why === "it is disabled")) {
      rule = d.notCounted.find((n) => n.why === "it is disabled")!.rule;
      id = "firewall-disabled";
      subject = rule.name;
    } else {
      id = "firewall-missing";
      subject = `network ${network ?? "(unknown)"}`;
    }
    const key = `${id}\n${subject}`;
    const g = groups.get(key) ?? { id, subject, decisions: [], rule };
    g.decisions.push(d);
    groups.set(key, g);
  }
  const nodePort = ctx.nodePort;
  return [...groups.values()].map((g) => {
    const ranges = [...new Set(g.decisions.map((d) => d.range))].join(" and ");
    const nodes = [...new Set(g.decisions.map((d) => d.instance))];
    const evidence: Evidence[] = [
      ...g.decisions.map((d) => ({ source: `compute firewalls${d.rule ? `/${d.rule.name}` : ""}`, detail: decisionText(d), node: d.instance })),
      ...(g.rule ? [{ source: `compute firewalls/${g.rule.name}`, detail: ruleText(g.rule), resource: g.rule.name }] : []),
    ];
    const whom = [...new Set(g.decisions.map((d) => sources.find((x) => x.range === d.range)?.what ?? "the health checkers"))].join(", ");
    const who = `${ranges} (${whom}) to ${nodes.length === lb.instances.length ? "every node" : nodes.join(", ")} on n-port ${nodePort}`;
    const tag = lb.instances[0]?.networkTags[0];
    const allowCmd = `gcloud compute firewall-rules create allow-gfe-health-checks --network ${network ?? "NETWORK"} --direction INGRESS --priority 1000 --source-ranges ${[...new Set(g.decisions.map((d) => d.range))].join(",")} --allow tcp:${nodePort}${tag ? ` --target-tags ${tag}` : ""}`;
    switch (g.id) {
      case "firewall-deny-overrides":
        return cause("firewall", g.subject, g.id, `Deny rule ${g.subject} (priority ${g.rule!.priority ?? 1000}) drops ${who}: it wins over the allow rules (lower number, or deny at equal priority).`, evidence, `remove or narrow ${g.subject}, or give an allow rule for ${HEALTH_CHECK_RANGES.join(", ")} tcp:${nodePort} a lower priority number than ${g.rule!.priority ?? 1000}`, ["C11", "C12"]);
      case "firewall-other-network":
        return cause("firewall", g.subject, g.id, `Rule ${g.subject} would let ${ranges} in, but it is in network ${g.rule!.network}, not the nodes' network ${network ?? "(unknown)"}; nothing admits ${who}.`, evidence, allowCmd, ["C11", "C12"]);
      case "firewall-disabled":
        return cause("firewall", g.subject, g.id, `Rule ${g.subject} would let ${ranges} in, but it is disabled; nothing admits ${who}.`, evidence, `gcloud compute firewall-rules update ${g.subject} --no-disabled`, ["C11", "C12"]);
      default:
        return cause("firewall", g.subject, g.id, `No enabled rule of ${g.subject} admits ${who}, so the implied deny-all ingress rule drops the health checks.`, evidence, allowCmd, ["C11", "C12"]);
    }
  });
}

// ---------------------------------------------------------------- instance groups

function instanceGroupCauses(ctx: CheckContext): Cause[] {
  const out: Cause[] = [];
  const lb = ctx.model.loadBalancer;
  if (!lb || ctx.mode.neg.detected) return out;
  if (ctx.nodePort !== undefined) {
    const namedPort = `port${ctx.nodePort}`;
    for (const bs of pathBackendServices(ctx)) {
      const wanted = bs.portName ?? namedPort;
      for (const backend of bs.backends.filter((b) => b.kind === "instanceGroup")) {
        const group = groupOf(lb, backend);
        if (!group) continue;
        const np = group.namedPorts.find((p) => p.name === wanted);
        const subject = `${group.zone}/${group.name}`;
        const evidence: Evidence[] = [{ source: `compute instanceGroups/${group.name} (${group.zone})`, detail: `namedPorts=${list(group.namedPorts.map((p) => `${p.name}:${p.port}`))}`, resource: subject }];
        const fix = `gcloud compute instance-groups set-named-ports ${group.name} --zone ${group.zone} --named-ports ${[...group.namedPorts.filter((p) => p.name !== wanted).map((p) => `${p.name}:${p.port}`), `${wanted}:${ctx.nodePort}`].join(",")} (the controller restores it on its next sync)`;
        if (!np) out.push(cause("instance-group", subject, "named-port-missing", `Instance group ${group.name} in ${group.zone} has no named port ${wanted}, so backend service ${bs.name} cannot reach n-port ${ctx.nodePort} on its nodes (${list(group.instances)}).`, evidence, fix, ["C10", "C11", "C12"]));
        else if (np.port !== ctx.nodePort) out.push(cause("instance-group", subject, "named-port-wrong", `Instance group ${group.name} in ${group.zone} maps ${wanted} to ${np.port}, not the Service's n-port ${ctx.nodePort}.`, evidence, fix, ["C10", "C11", "C12"]));
      }
    }
  }
  // nodes of the cluster the groups do not hold: the LB never sends to them
  const groups = lb.instanceGroups;
  if (groups.length > 0) {
    for (const node of ctx.model.kubernetes?.nodes ?? []) {
      if (groups.some((g) => g.instances.includes(node.name))) continue;
      const zone = /^gce:\/\/[^/]+\/([^/]+)\//.exec(node.providerId ?? "")?.[1];
      const sameZone = groups.filter((g) => g.zone === zone);
      out.push(
        cause(
          "instance-group",
          node.name,
          "node-not-in-instance-group",
          `Node ${node.name}${zone ? ` (${zone})` : ""} is a cluster node but no instance group ${list([...new Set(groups.map((g) => g.name))])}${zone ? ` in ${zone}` : ""} holds it, so the load balancer never sends to its n-ip:n-port.`,
          [
            { source: `kubernetes node ${node.name}`, detail: `spec.providerID=${node.providerId ?? "(none)"}, InternalIP=${node.internalIp ?? "(none)"}`, node: node.name },
            ...(sameZone.length ? sameZone : groups).map((g) => ({ source: `compute instanceGroups/${g.name} (${g.zone}) listInstances`, detail: `instances: ${list(g.instances)}`, resource: `${g.zone}/${g.name}` })),
          ],
          `the controller adds nodes on its next sync; if it does not, check the node is Ready and not labelled node.kubernetes.io/exclude-from-external-load-balancers, or add it: gcloud compute instance-groups unmanaged add-instances ${sameZone[0]?.name ?? groups[0].name} --zone ${zone ?? sameZone[0]?.zone ?? groups[0].zone} --instances ${node.name}`,
          ["C1"],
        ),
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------- Service, endpoints, pods

function serviceCauses(ctx: CheckContext, failing: Set<ClaimId>): Cause[] {
  const out: Cause[] = [];
  const kube = ctx.model.kubernetes;
  const svc = ctx.service;
  if (!kube || !svc) return out;
  const name = `${svc.namespace}/${svc.name}`;
  const podsRead = !ctx.model.problems.some((p) => p.source === "kubernetes" && /^pods /.test(p.message));
  const selector = Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(",");
  const pathClaims: ClaimId[] = ["C7", "C11", "C12"];
  if (selector !== "" && podsRead && kube.pods.length === 0) {
    out.push(
      cause(
        "service",
        name,
        "selector-matches-no-pod",
        `Service ${name} selects ${selector}, and no pod in ${svc.namespace} carries those labels: it has no p-ip to send to.`,
        [{ source: `kubernetes service ${name}`, detail: `spec.selector=${selector}`, resource: name }, { source: `kubernetes pods -n ${svc.namespace} -l ${selector}`, detail: "no pod" }],
        `make spec.selector match the Deployment's pod template labels (kubectl get pods -n ${svc.namespace} --show-labels)`,
        pathClaims,
      ),
    );
    return out;
  }
  const pods = ctx.pods;
  // targetPort: a name must be a container port's name, or the endpoints get no port at all
  const target = ctx.port?.targetPort;
  if (typeof target === "string" && /\D/.test(target) && pods.length > 0) {
    const named = pods.filter((p) => (p.containerPorts ?? []).some((c) => c.name === target));
    if (named.length === 0 && pods.every((p) => p.containerPorts !== undefined)) {
      out.push(
        cause(
          "service",
          name,
          "target-port-name-unknown",
          `Service ${name} sends s-port ${ctx.port!.port} to targetPort "${target}", but no container of its pods declares a port named ${target}: there is no p-port to DNAT to.`,
          [{ source: `kubernetes service ${name}`, detail: `spec.ports[].targetPort=${target}`, resource: name }, ...pods.map((p) => ({ source: `kubernetes pod ${p.name}`, detail: `containerPorts=${list((p.containerPorts ?? []).map((c) => `${c.name ?? "(unnamed)"}:${c.containerPort}`))}` }))],
          `name the container port ${target} or set targetPort to the port number the app listens on`,
          pathClaims,
        ),
      );
    }
  } else if (target !== undefined && pods.length > 0 && [...failing].some((id) => pathClaims.includes(id))) {
    const port = Number(target);
    const declared = pods.flatMap((p) => p.containerPorts ?? []);
    if (declared.length > 0 && !declared.some((c) => c.containerPort === port)) {
      out.push(
        cause(
          "pod",
          pods[0].name,
          "target-port-not-declared",
          `Service ${name} sends to p-port ${port}, but its pods declare only ${list([...new Set(declared.map((c) => String(c.containerPort)))])}: the app most likely listens on another port than targetPort.`,
          [{ source: `kubernetes service ${name}`, detail: `spec.ports[].targetPort=${target}`, resource: name }, ...pods.map((p) => ({ source: `kubernetes pod ${p.name}`, detail: `containerPorts=${list((p.containerPorts ?? []).map((c) => `${c.name ?? "(unnamed)"}:${c.containerPort}`))}` }))],
          `set the Service's targetPort to the port the app listens on (or make the app listen on ${port})`,
          pathClaims,
        ),
      );
    }
  }
  // pods that do not run, or run but are not ready
  for (const pod of pods) {
    if (pod.phase && pod.phase !== "Running") {
      out.push(cause("pod", pod.name, "pod-not-running", `Pod ${pod.name} is ${pod.phase}, so it has no serving p-ip:p-port.`, [{ source: `kubernetes pod ${pod.name}`, detail: `status.phase=${pod.phase}, node=${pod.nodeName ?? "(unscheduled)"}` }], `kubectl describe pod -n ${svc.namespace} ${pod.name} (events say why: image, resources, scheduling, crash)`, ["C7", "C8", "C12"]));
    }
  }
  // endpoints: the EndpointSlices say which p-ip:p-port kube-proxy sends to
  const readEndpoints = !ctx.model.problems.some((p) => p.source === "kubernetes" && /^endpointslices /.test(p.message));
  // on the NEG path a pod whose containers are ready waits for its NEG readiness gate: that is the
  // LB's side (diagnosis-neg.ts), not a failing readiness probe
  const waitsForGate = (p: PodModel) =>
    (p.readinessGates ?? []).includes(NEG_READINESS_GATE) && p.conditions?.find((c) => c.type === "ContainersReady")?.status === "True";
  if (readEndpoints && pods.length > 0 && !kube.endpoints.some((e) => e.ready) && !(ctx.mode.neg.detected && pods.every(waitsForGate))) {
    const probe = probeOf(pods);
    out.push(
      cause(
        "endpoints",
        name,
        "no-ready-endpoints",
        `No endpoint of Service ${name} is ready (${kube.endpoints.length} listed${kube.endpoints.some((e) => e.terminating) ? ", some terminating" : ""}): kube-proxy's KUBE-SVC chain has no p-ip:p-port to send to${probe ? `; the pods' readiness probe GET ${probe.path ?? "/"} on ${probe.port ?? "?"} is failing` : ""}.`,
        [
          ...kube.endpoints.map((e) => ({ source: `kubernetes endpointslice ${name}`, detail: `${e.ip}:${e.port} ready=${e.ready} serving=${e.serving ?? "?"} terminating=${e.terminating ?? "?"} pod=${e.podName ?? "?"}` })),
          ...pods.map((p) => ({ source: `kubernetes pod ${p.name}`, detail: `phase=${p.phase ?? "?"}, ready=${p.ready}${p.readinessProbe ? `, readinessProbe ${p.readinessProbe.path ?? ""}:${p.readinessProbe.port ?? ""}` : ""}` })),
        ],
        `kubectl describe pod -n ${svc.namespace} -l ${selector || "<selector>"} shows why the readiness probe fails`,
        ["C7", "C11", "C12"],
      ),
    );
  }
  return out;
}

