// Today's GKE defaults that take nodes' iptables off the LB path. They are explained to the reader
// instead of being reported as a broken cluster: the article's path simply is not the one in use.
import type { BackendServiceModel, Evidence, PathModel, UrlMapModel } from "../model";
import { negRequested } from "../neg";

export interface ModeFinding {
  detected: boolean;
  /** one paragraph for the reader */
  explanation: string;
  evidence: Evidence[];
}

export interface PathMode {
  dataplaneV2: ModeFinding;
  neg: ModeFinding;
  /** which backend service(s) the URL map sends the Service's path(s) to */
  route: ServiceRoute;
}

/** One (host, path) of the Service, resolved through the URL map. */
export interface RouteStep {
  host: string;
  path: string;
  /** the backend service name the URL map sends it to; undefined when nothing matches */
  backendService?: string;
  /** how it was resolved, e.g. "hostRules[*] -> pathMatchers[host1].pathRules[/*]" */
  via: string;
}

export interface ServiceRoute {
  /** false when the URL map was not read: the checks then fall back to what was read */
  known: boolean;
  steps: RouteStep[];
  /** backend service names on the Service's path, in order, without repeats */
  names: string[];
  /** those of them that were read */
  backendServices: BackendServiceModel[];
  /** where the Service's paths came from: the Ingress's rules / default backend, or "/" by default */
  from: "ingress" | "root";
}

const DPV2_EXPLANATION =
  "Dataplane V2 (eBPF, Cilium) does service load-balancing in the kernel without kube-proxy's iptables rules, " +
  "so there are no KUBE-* chains to show. Create the cluster with datapathProvider LEGACY_DATAPATH to see the article's rules.";
const NEG_EXPLANATION =
  "Container-native load balancing (NEG): the LB health-checks and sends to p-ip:p-port directly, through the pod's node " +
  "(forwarded, not NATed); C1, C10 and C11 judge the NEGs, their endpoints, the firewall to the pods and the readiness gates, " +
  "and the nodes' nat claims (C2..C7) are facts of the cluster, not hops of this path.";

/** Minimal node facts the detection needs (the checks' NodeView satisfies it). */
interface DumpView {
  name: string;
  node?: { nat?: { text: string } };
}

/**
 * The paths ingress-gce writes for an Ingress path (pkg/controller/translator): Prefix "/foo" ->
 * "/foo" and "/foo/*", Prefix "/" -> "/*", Exact and ImplementationSpecific as written.
 */
export function urlMapPathsOf(path: string | undefined, pathType?: string): string[] {
  const p = path && path !== "" ? path : "/*";
  if (pathType === "Prefix") {
    if (p === "/") return ["/*"];
    const base = p.replace(/\/+$/, "");
    return [base, `${base}/*`];
  }
  return [p === "/" && pathType === undefined ? "/*" : p];
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (pattern.startsWith("*.")) return host !== "*" && host.endsWith(pattern.slice(1));
  return false;
}

/**
 * Resolves (host, path) the way the URL map routes a request (GCP URL map docs): the host rule
 * whose hosts match (exact, then "*.suffix", then "*"), its path matcher's path rule whose paths
 * contain the path (longest first), else that matcher's default service, else the map's
 * defaultService.
 */
export function resolveUrlMap(urlMap: UrlMapModel, host: string, paths: string[]): { backendService?: string; via: string } {
  const rules = urlMap.hostRules ?? [];
  const rule =
    rules.find((r) => r.hosts.includes(host)) ?? rules.find((r) => r.hosts.some((h) => h !== "*" && hostMatches(h, host))) ?? rules.find((r) => r.hosts.includes("*"));
  if (!rule) return { backendService: urlMap.defaultService, via: `defaultService (no host rule matches ${host})` };
  const matcher = (urlMap.pathMatchers ?? []).find((m) => m.name === rule.pathMatcher);
  if (!matcher) return { backendService: urlMap.defaultService, via: `defaultService (host rule ${rule.hosts.join(",")} names missing path matcher ${rule.pathMatcher})` };
  for (const path of [...paths].sort((a, b) => b.length - a.length)) {
    const pathRule = matcher.pathRules.find((r) => r.paths.includes(path));
    if (pathRule) return { backendService: pathRule.service, via: `hostRules[${rule.hosts.join(",")}] -> pathMatchers[${matcher.name}] path ${path}` };
  }
  return { backendService: matcher.defaultService ?? urlMap.defaultService, via: `pathMatchers[${matcher.name}].defaultService (no path rule for ${paths.join(" ")})` };
}

/** The backend service(s) the URL map sends the Service's path(s) to (issue: defaultService is only the fallback). */
export function serviceRoute(model: PathModel): ServiceRoute {
  const lb = model.loadBalancer;
  const urlMap = lb?.urlMap;
  const service = model.kubernetes?.service;
  const ingress = model.kubernetes?.ingress;
  const wanted: { host: string; paths: string[]; label: string }[] = [];
  if (service && ingress) {
    if (ingress.defaultBackend?.service === service.name) wanted.push({ host: "*", paths: ["/*"], label: "spec.defaultBackend" });
    for (const rule of ingress.rules ?? []) {
      for (const p of rule.paths) if (p.service === service.name) wanted.push({ host: rule.host ?? "*", paths: urlMapPathsOf(p.path, p.pathType), label: `${rule.host ?? "*"}${p.path ?? ""}` });
    }
  }
  const from: ServiceRoute["from"] = wanted.length > 0 ? "ingress" : "root";
  if (wanted.length === 0) wanted.push({ host: "*", paths: ["/*", "/"], label: "/" });
  if (!urlMap) return { known: false, steps: [], names: [], backendServices: [], from };
  const steps: RouteStep[] = wanted.map((w) => {
    const resolved = resolveUrlMap(urlMap, w.host, w.paths);
    return { host: w.host, path: w.paths[0], backendService: resolved.backendService, via: resolved.via };
  });
  // models may hold links or names; the name is the last segment either way
  for (const step of steps) if (step.backendService) step.backendService = step.backendService.slice(step.backendService.lastIndexOf("/") + 1);
  const names = [...new Set(steps.map((s) => s.backendService).filter((n): n is string => n !== undefined))];
  const backendServices = names.map((n) => lb!.backendServices.find((b) => b.name === n)).filter((b): b is BackendServiceModel => b !== undefined);
  return { known: true, steps, names, backendServices, from };
}

export function detectPathMode(model: PathModel, nodes: DumpView[]): PathMode {
  const dpv2Evidence: Evidence[] = [];
  if (model.kubernetes?.datapath === "dataplane-v2") {
    dpv2Evidence.push({ source: "kubernetes kube-system", detail: "anetd / cilium runs and kube-proxy does not (datapath dataplane-v2)" });
  }
  const dumps = nodes.filter((n) => n.node?.nat);
  const noKubeChains = dumps.length > 0 && dumps.every((n) => !n.node!.nat!.text.includes("KUBE-"));
  const ciliumChains = dumps.some((n) => /CILIUM_/.test(n.node!.nat!.text));
  if (noKubeChains && (ciliumChains || model.kubernetes?.datapath === "dataplane-v2")) {
    dpv2Evidence.push({
      source: "nodes' nat tables",
      detail: `no KUBE-* chains on ${dumps.map((n) => n.name).join(", ")}${ciliumChains ? "; CILIUM_* chains present" : ""}`,
    });
  }

  const negEvidence: Evidence[] = [];
  // NEG or instance groups is a property of each backend service: only those on the Service's
  // path count (a NEG elsewhere on the map, e.g. cert-manager's HTTP-01 solver, does not).
  const route = serviceRoute(model);
  const onPath = route.known && route.backendServices.length > 0 ? route.backendServices : route.known ? [] : (model.loadBalancer?.backendServices ?? []);
  for (const bs of onPath) {
    // One line per NEG name: GKE gives a Service's NEGs one name in every zone.
    const zones = new Map<string, string[]>();
    for (const b of bs.backends.filter((x) => x.kind === "networkEndpointGroup")) {
      const name = b.group.slice(b.group.lastIndexOf("/") + 1);
      zones.set(name, [...(zones.get(name) ?? []), ...(b.zone ? [b.zone] : [])]);
    }
    for (const [name, inZones] of zones) {
      const where = inZones.length > 1 ? `, in ${inZones.length} zones: ${inZones.join(", ")}` : inZones.length === 1 ? `, in ${inZones[0]}` : "";
      negEvidence.push({ source: `compute backendServices/${bs.name}`, detail: `backends[].group=${name} (network endpoint group${where})` });
    }
  }
  const service = model.kubernetes?.service;
  const negValue = service?.annotations["cloud.google.com/neg"];
  if (negRequested(negValue)) {
    negEvidence.push({ source: `kubernetes service ${service!.namespace}/${service!.name}`, detail: `metadata.annotations["cloud.google.com/neg"]=${negValue}` });
  }

  return {
    dataplaneV2: { detected: dpv2Evidence.length > 0, explanation: DPV2_EXPLANATION, evidence: dpv2Evidence },
    neg: { detected: negEvidence.length > 0, explanation: NEG_EXPLANATION, evidence: negEvidence },
    route,
  };
}
