// A stand-in for the Kubernetes API server serving a KubeWorld on the real REST paths: typed
// objects and XxxList envelopes, labelSelector (equality, inequality and existence terms), bearer
// token check (401), per-resource RBAC denials (403) and the Status object every error carries.
import type { V1Status } from "@kubernetes/client-node";
import { bearerToken, startStandin, type StandinReply, type StandinRequest, type StandinServer } from "./http";
import type { KubeWorld } from "./world";

export interface KubeStandinOptions {
  token: string;
  /** resources ("services", "pods", "endpointslices", ...) the token may not read */
  forbidden?: string[];
}

export interface KubeStandin extends StandinServer {
  world: KubeWorld;
}

function status(code: number, reason: string, message: string, details?: V1Status["details"]): StandinReply {
  const body: V1Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details) body.details = details;
  return { status: code, body };
}

export function labelSelectorMatches(selector: string | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  return selector.split(",").every((term) => {
    const t = term.trim();
    let m = /^([^!=]+)!=(.*)$/.exec(t);
    if (m) return have[m[1].trim()] !== m[2].trim();
    m = /^([^=]+)==?(.*)$/.exec(t);
    if (m) return have[m[1].trim()] === m[2].trim();
    if (t.startsWith("!")) return !(t.slice(1) in have);
    return t in have;
  });
}

/** fieldSelector "a.b=x,c!=y" (the API server's form; only = / == / != terms), as a predicate. */
export function fieldSelectorOf(selector: string | null): ((item: Record<string, unknown>) => boolean) | Error {
  if (!selector) return () => true;
  const terms = selector.split(",").map((t) => /^([\w.]+)(==|=|!=)(.*)$/.exec(t.trim()));
  const bad = selector.split(",").find((_, i) => terms[i] === null);
  if (bad !== undefined) return new Error(`invalid field selector: "${bad}"`);
  return (item) =>
    terms.every((m) => {
      const [, path, op, value] = m!;
      const actual = path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], item);
      return op === "!=" ? String(actual ?? "") !== value : String(actual ?? "") === value;
    });
}

interface Named {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

export async function startKubeStandin(world: KubeWorld, options: KubeStandinOptions): Promise<KubeStandin> {
  const get = (resource: string, group: string, items: Named[], ns: string | undefined, name: string): StandinReply => {
    const item = items.find((i) => i.metadata?.name === name && (ns === undefined || i.metadata?.namespace === ns));
    return item
      ? { status: 200, body: item }
      : status(404, "NotFound", `${resource}${group ? "." + group : ""} "${name}" not found`, { name, group: group || undefined, kind: resource });
  };
  const list = (kind: string, apiVersion: string, items: Named[], ns: string | undefined, request: StandinRequest): StandinReply => {
    const selector = request.query.get("labelSelector");
    const selected = items.filter((i) => (ns === undefined || i.metadata?.namespace === ns) && labelSelectorMatches(selector, i.metadata?.labels));
    return { status: 200, body: { kind, apiVersion, metadata: { resourceVersion: "48213" }, items: selected } };
  };

  type Route = { pattern: RegExp; resource: string; group: string; handle: (m: string[], r: StandinRequest) => StandinReply };
  const routes: Route[] = [
    { pattern: /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/, resource: "services", group: "",
      handle: ([ns, n]) => get("services", "", world.services, ns, n) },
    { pattern: /^\/api\/v1\/namespaces\/([^/]+)\/pods$/, resource: "pods", group: "",
      handle: ([ns], r) => list("PodList", "v1", world.pods, ns, r) },
    { pattern: /^\/api\/v1\/nodes$/, resource: "nodes", group: "",
      handle: (_, r) => list("NodeList", "v1", world.nodes, undefined, r) },
    { pattern: /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/, resource: "endpointslices", group: "discovery.k8s.io",
      handle: ([ns], r) => list("EndpointSliceList", "discovery.k8s.io/v1", world.endpointSlices, ns, r) },
    { pattern: /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/ingresses\/([^/]+)$/, resource: "ingresses", group: "networking.k8s.io",
      handle: ([ns, n]) => get("ingresses", "networking.k8s.io", world.ingresses, ns, n) },
    { pattern: /^\/api\/v1\/namespaces\/([^/]+)\/events$/, resource: "events", group: "",
      handle: ([ns], r) => {
        const fields = fieldSelectorOf(r.query.get("fieldSelector"));
        if (fields instanceof Error) return status(400, "BadRequest", fields.message);
        const items = (world.events ?? []).filter((e) => (e.metadata?.namespace ?? e.involvedObject.namespace) === ns && fields(e as unknown as Record<string, unknown>));
        return { status: 200, body: { kind: "EventList", apiVersion: "v1", metadata: { resourceVersion: "48213" }, items } };
      } },
    { pattern: /^\/apis\/networking\.gke\.io\/v1beta1\/namespaces\/([^/]+)\/servicenetworkendpointgroups$/, resource: "servicenetworkendpointgroups", group: "networking.gke.io",
      handle: ([ns], r) =>
        world.svcNegs === undefined
          ? status(404, "NotFound", "the server could not find the requested resource")
          : list("ServiceNetworkEndpointGroupList", "networking.gke.io/v1beta1", world.svcNegs, ns, r) },
    { pattern: /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/daemonsets$/, resource: "daemonsets", group: "apps",
      handle: ([ns], r) => list("DaemonSetList", "apps/v1", world.daemonSets, ns, r) },
  ];

  const server = await startStandin((request) => {
    if (bearerToken(request) !== options.token) return status(401, "Unauthorized", "Unauthorized");
    if (request.method !== "GET") return status(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`);
    for (const route of routes) {
      const m = route.pattern.exec(request.path);
      if (!m) continue;
      const params = m.slice(1);
      if (options.forbidden?.includes(route.resource)) {
        const verb = params.length > 1 ? "get" : "list";
        const where = params.length > 0 && route.resource !== "nodes" ? ` in the namespace "${params[0]}"` : " at the cluster scope";
        const name = params.length > 1 ? ` "${params[1]}"` : "";
        return status(403, "Forbidden",
          `${route.resource}${route.group ? "." + route.group : ""}${name} is forbidden: User "standin@example.iam.gserviceaccount.com" cannot ${verb} resource "${route.resource}" in API group "${route.group}"${where}`,
          { kind: route.resource, group: route.group || undefined });
      }
      return route.handle(params, request);
    }
    return status(404, "NotFound", "the server could not find the requested resource");
  });
  return { ...server, world };
}
