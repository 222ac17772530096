// In-process transports that answer the official clients' REST requests from a snapshot folder,
// so the Compute and Kubernetes sources run unchanged and the checks cannot tell a folder from the
// live APIs. Compute: a `fetch` for gaxios (`fetchImplementation`); Kubernetes: an HttpLibrary for
// @kubernetes/client-node's generated clients. Nothing here opens a socket. A request the folder
// cannot answer gets the API's 404 and is recorded as missing, with the command that would supply it.
import { Observable, ResponseContext, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";
import type { ComputeEntry, KubeEntry, SnapshotFolder } from "./folder";

/** One object a claim needed that the folder does not hold. */
export interface MissingObject {
  /** e.g. "compute backendServices/k8s-be-30080--x (global)", "kubernetes daemonsets in kube-system" */
  what: string;
  /** the gcloud / kubectl command whose output, saved into the folder, supplies it */
  command: string;
}

/** Marks a 404 answered for a missing object; the sources quote the API's message in their Problems. */
export const MISSING_MARK = "not in the snapshot folder";
export const missingTag = (index: number) => `[snapshot-missing #${index}]`;

function record(missing: MissingObject[], entry: MissingObject): number {
  const found = missing.findIndex((m) => m.what === entry.what);
  if (found >= 0) return found;
  missing.push(entry);
  return missing.length - 1;
}

// ---------------------------------------------------------------- Compute

/** gcloud's command group per REST collection. */
const GCLOUD_GROUP: Record<string, string> = {
  forwardingRules: "forwarding-rules",
  targetHttpProxies: "target-http-proxies",
  targetHttpsProxies: "target-https-proxies",
  urlMaps: "url-maps",
  backendServices: "backend-services",
  healthChecks: "health-checks",
  instanceGroups: "instance-groups unmanaged",
  instances: "instances",
  firewalls: "firewall-rules",
  networkEndpointGroups: "network-endpoint-groups",
  sslCertificates: "ssl-certificates",
};

function scopeFlag(collection: string, scope: string): string {
  if (scope.startsWith("zones/")) return ` --zone ${scope.slice(6)}`;
  if (scope.startsWith("regions/")) return ` --region ${scope.slice(8)}`;
  return collection === "firewalls" || collection === "instances" ? "" : " --global";
}

function computeCommand(project: string, scope: string, collection: string, name?: string): string {
  const group = GCLOUD_GROUP[collection] ?? collection;
  if (name) return `gcloud compute ${group} describe ${name}${scopeFlag(collection, scope)} --project ${project} --format=json > ${name}.json`;
  return `gcloud compute ${group} list --project ${project} --format=json > ${collection}.json`;
}

function googleError(code: number, message: string): { status: number; body: unknown } {
  const reason = code === 404 ? "notFound" : code === 400 ? "invalid" : "forbidden";
  return { status: code, body: { error: { code, message, errors: [{ message, domain: "global", reason }], status: code === 404 ? "NOT_FOUND" : "INVALID_ARGUMENT" } } };
}

/** The regex form of Compute list filters the sources send ('field eq "value"', several in parentheses). */
function computeFilter(filter: string | null): (item: Record<string, unknown>) => boolean {
  if (!filter) return () => true;
  const clauses = filter.includes("(") ? [...filter.matchAll(/\(([^)]*)\)/g)].map((m) => m[1] ?? "") : [filter];
  const tests = clauses.map((clause) => {
    const m = /^\s*([A-Za-z][\w.]*)\s+(eq|ne)\s+"?(.*?)"?\s*$/.exec(clause);
    if (!m) return () => true;
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const regex = new RegExp(`^(?:${value})$`);
    return (item: Record<string, unknown>) => {
      const actual = field.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], item);
      const hit = actual !== undefined && regex.test(String(actual));
      return op === "eq" ? hit : !hit;
    };
  });
  return (item) => tests.every((t) => t(item));
}

const listKind = (collection: string) => `compute#${collection.replace(/ies$/, "y").replace(/s$/, "")}List`;

/**
 * A `fetch` answering Compute REST requests (…/compute/v1|beta/projects/<p>/…) from the folder:
 * GET by collection + name, lists (global, regional, zonal, aggregated; `filter` applied),
 * POST backendServices.getHealth and instanceGroups.listInstances. Unanswerable requests get a 404
 * and an entry in `missing`.
 */
export function snapshotComputeFetch(folder: SnapshotFolder, missing: MissingObject[]): typeof fetch {
  const respond = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=UTF-8" } });
  const notThere = (entry: MissingObject) => {
    const index = record(missing, entry);
    return respond(404, googleError(404, `${entry.what} is ${MISSING_MARK} ${missingTag(index)}`).body);
  };
  return async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? "GET").toUpperCase();
    const m = /\/compute\/(?:v1|beta|alpha)\/projects\/([^/]+)\/(.*)$/.exec(decodeURIComponent(url.pathname));
    if (!m) return respond(404, googleError(404, `not a Compute API path: ${url.pathname}`).body);
    const [, project, rest] = m as unknown as [string, string, string];
    const body = typeof init?.body === "string" && init.body ? (JSON.parse(init.body) as Record<string, unknown>) : {};

    // POST …/backendServices/<name>/getHealth {group}
    let p = /^(global|regions\/[^/]+)\/backendServices\/([^/]+)\/getHealth$/.exec(rest);
    if (p && method === "POST") {
      const [, scope, name] = p as unknown as [string, string, string];
      const group = typeof body.group === "string" ? body.group : "";
      const groupKey = /projects\/.*$/.exec(group)?.[0];
      const hit = folder.health.find((h) => h.backendService === name && /projects\/.*$/.exec(h.group)?.[0] === groupKey);
      if (hit) return respond(200, hit.health);
      const zone = /\/zones\/([^/]+)\//.exec(group)?.[1];
      return notThere({
        what: `compute backendServices/${name} getHealth for ${group.slice(group.lastIndexOf("/") + 1)}${zone ? ` (${zone})` : ""}`,
        command: `gcloud compute backend-services get-health ${name}${scopeFlag("backendServices", scope)} --project ${project} --format=json > ${name}.get-health.json`,
      });
    }
    // POST zones/<z>/instanceGroups/<name>/listInstances
    p = /^(zones\/[^/]+)\/instanceGroups\/([^/]+)\/listInstances$/.exec(rest);
    if (p && method === "POST") {
      const [, scope, name] = p as unknown as [string, string, string];
      const key = `projects/${project}/${scope}/instanceGroups/${name}`;
      const pages = folder.members.filter((e) => e.groupKey === key);
      if (pages.length > 0) return respond(200, { kind: "compute#instanceGroupsListInstances", items: pages.flatMap((e) => e.items), selfLink: `https://www.googleapis.com/compute/v1/${key}/listInstances` });
      return notThere({
        what: `compute instanceGroups/${name} members (${scope.slice(6)})`,
        command: `curl -s -X POST -H "Authorization: Bearer $(gcloud auth print-access-token)" https://compute.googleapis.com/compute/v1/${key}/listInstances > ${name}.members.json`,
      });
    }
    // POST zones/<z>/networkEndpointGroups/<name>/listNetworkEndpoints
    p = /^(zones\/[^/]+)\/networkEndpointGroups\/([^/]+)\/listNetworkEndpoints$/.exec(rest);
    if (p && method === "POST") {
      const [, scope, name] = p as unknown as [string, string, string];
      const key = `projects/${project}/${scope}/networkEndpointGroups/${name}`;
      const found = (folder.endpoints ?? []).filter((e) => e.negKey === key);
      if (found.length > 0) return respond(200, { kind: "compute#networkEndpointGroupsListNetworkEndpoints", items: found.flatMap((e) => e.items) });
      return notThere({
        what: `compute networkEndpointGroups/${name} endpoints (${scope.slice(6)})`,
        command: `gcloud compute network-endpoint-groups list-network-endpoints ${name} --zone ${scope.slice(6)} --project ${project} --format=json > ${name}.${scope.slice(6)}.endpoints.json`,
      });
    }
    if (method !== "GET") return respond(400, googleError(400, `the snapshot answers reads only, not ${method} ${rest}`).body);
    // GET aggregated/<collection>
    p = /^aggregated\/([A-Za-z]+)$/.exec(rest);
    if (p) {
      const collection = p[1]!;
      const all = folder.compute.filter((c) => c.project === project && c.collection === collection);
      if (all.length === 0) return notThere({ what: `compute ${collection} (every zone)`, command: computeCommand(project, "", collection) });
      const test = computeFilter(url.searchParams.get("filter"));
      const items: Record<string, unknown> = {};
      for (const c of all.filter((c) => test(c.object))) {
        const scopeItems = (items[c.scope] ??= { [collection]: [] }) as Record<string, unknown[]>;
        scopeItems[collection]!.push(c.object);
      }
      return respond(200, { kind: listKind(collection).replace(/List$/, "AggregatedList"), items });
    }
    // GET <scope>/<collection>[/<name>]
    p = /^(global|regions\/[^/]+|zones\/[^/]+)\/([A-Za-z]+)(?:\/([^/]+))?$/.exec(rest);
    if (p) {
      const [, scope, collection, name] = p as unknown as [string, string, string, string | undefined];
      const inScope = (c: ComputeEntry) => c.project === project && c.scope === scope && c.collection === collection;
      if (name) {
        const hit = folder.compute.find((c) => inScope(c) && c.name === name);
        if (hit) return respond(200, hit.object);
        return notThere({ what: `compute ${collection}/${name} (${scope === "global" ? "global" : scope.replace(/^\w+\//, "")})`, command: computeCommand(project, scope, collection, name) });
      }
      const all = folder.compute.filter(inScope);
      // An empty answer would claim "there are none"; the folder only shows what was saved.
      if (all.length === 0) return notThere({ what: `compute ${collection} list (${scope})`, command: computeCommand(project, scope, collection) });
      const test = computeFilter(url.searchParams.get("filter"));
      return respond(200, { kind: listKind(collection), items: all.map((c) => c.object).filter(test) });
    }
    return notThere({ what: `compute ${rest}`, command: `gcloud compute … --project ${project} --format=json (the request was GET ${rest})` });
  };
}

// ---------------------------------------------------------------- Kubernetes

/** REST resource (plural) -> kind, for what the sources read. */
const RESOURCE_KIND: Record<string, string> = {
  services: "Service",
  pods: "Pod",
  nodes: "Node",
  endpointslices: "EndpointSlice",
  endpoints: "Endpoints",
  ingresses: "Ingress",
  events: "Event",
  daemonsets: "DaemonSet",
  deployments: "Deployment",
  replicasets: "ReplicaSet",
  configmaps: "ConfigMap",
  namespaces: "Namespace",
  ingressclasses: "IngressClass",
  frontendconfigs: "FrontendConfig",
  backendconfigs: "BackendConfig",
  servicenetworkendpointgroups: "ServiceNetworkEndpointGroup",
};

/** Equality, inequality, existence and set terms of a label selector. */
export function labelSelectorMatches(selector: string | null, labels: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  const terms = selector.match(/(?:[^,(]+|\([^)]*\))+/g) ?? [];
  return terms.every((term) => {
    const t = term.trim();
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
    if (m) {
      const values = m[3]!.split(",").map((v) => v.trim());
      const hit = m[1]! in have && values.includes(have[m[1]!]!);
      return m[2] === "in" ? hit : !hit;
    }
    m = /^([^!=]+)!=(.*)$/.exec(t);
    if (m) return have[m[1]!.trim()] !== m[2]!.trim();
    m = /^([^=]+)==?(.*)$/.exec(t);
    if (m) return have[m[1]!.trim()] === m[2]!.trim();
    if (t.startsWith("!")) return !(t.slice(1) in have);
    return t in have;
  });
}

/** Field selectors: "a.b=v,c!=w" on the object's fields. */
function fieldSelectorMatches(selector: string | null, object: Record<string, unknown>): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term.trim());
    if (!m) return true;
    const actual = m[1]!.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], object);
    const equal = String(actual ?? "") === m[3];
    return m[2] === "!=" ? !equal : equal;
  });
}

function kubeStatus(code: number, reason: string, message: string): { status: number; body: unknown } {
  return { status: code, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code } };
}

function kubectlCommand(resource: string, namespace: string | undefined, name?: string, selector?: string | null): string {
  const ns = namespace ? ` -n ${namespace}` : "";
  const sel = selector ? ` -l '${selector}'` : "";
  return `kubectl get ${resource}${name ? ` ${name}` : ""}${ns}${sel} -o yaml > ${resource}${name ? `-${name}` : ""}.yaml`;
}

/**
 * The answer to one Kubernetes REST request (`/api/v1/...`, `/apis/<group>/<version>/...`) from the
 * folder: GET one object, or a list with labelSelector / fieldSelector applied. Secrets are refused.
 */
export function answerKube(folder: SnapshotFolder, missing: MissingObject[], method: string, urlText: string): { status: number; body: unknown } {
  const url = new URL(urlText);
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(decodeURIComponent(url.pathname));
  if (!m) return kubeStatus(404, "NotFound", `the snapshot does not answer ${url.pathname}`);
  const [, coreVersion, group, version, namespace, resource, name] = m as unknown as [string, string | undefined, string | undefined, string | undefined, string | undefined, string, string | undefined];
  if (method !== "GET") return kubeStatus(405, "MethodNotAllowed", "the snapshot answers reads only");
  if (resource === "secrets") return kubeStatus(403, "Forbidden", "a snapshot never holds Secrets");
  const kind = RESOURCE_KIND[resource];
  const wantedGroup = coreVersion ? "" : group ?? "";
  const groupOf = (e: KubeEntry) => (e.apiVersion.includes("/") ? e.apiVersion.split("/")[0] : "");
  const candidates = folder.kube.filter(
    (e) => (kind ? e.kind === kind : e.kind.toLowerCase() + "s" === resource) && groupOf(e) === wantedGroup && (namespace === undefined || e.namespace === namespace),
  );
  const where = namespace ? ` in ${namespace}` : "";
  const notThere = (entry: MissingObject) => {
    const index = record(missing, entry);
    return kubeStatus(404, "NotFound", `${entry.what} is ${MISSING_MARK} ${missingTag(index)}`);
  };
  if (name) {
    const hit = candidates.find((e) => e.name === name);
    if (hit) return { status: 200, body: hit.object };
    return notThere({ what: `kubernetes ${resource} ${namespace ? `${namespace}/` : ""}${name}`, command: kubectlCommand(resource, namespace, name) });
  }
  const labelSelector = url.searchParams.get("labelSelector");
  const fieldSelector = url.searchParams.get("fieldSelector");
  if (candidates.length === 0) {
    return notThere({ what: `kubernetes ${resource}${where}${labelSelector ? ` (${labelSelector})` : ""}`, command: kubectlCommand(resource, namespace, undefined, labelSelector) });
  }
  const items = candidates
    .filter((e) => labelSelectorMatches(labelSelector, (e.object.metadata as { labels?: Record<string, string> } | undefined)?.labels))
    .filter((e) => fieldSelectorMatches(fieldSelector, e.object))
    .map((e) => e.object);
  const apiVersion = coreVersion ?? `${group}/${version}`;
  return { status: 200, body: { kind: `${kind ?? resource}List`, apiVersion, metadata: {}, items } };
}

/** An HttpLibrary for @kubernetes/client-node answering from the folder (see answerKube). */
export function snapshotKubeHttp(folder: SnapshotFolder, missing: MissingObject[]): HttpLibrary {
  return {
    send(request: RequestContext) {
      const { status, body } = answerKube(folder, missing, request.getHttpMethod().toString(), request.getUrl());
      const text = JSON.stringify(body);
      return new Observable(
        Promise.resolve(
          new ResponseContext(status, { "content-type": "application/json" }, { text: async () => text, binary: async () => Buffer.from(text), stream: () => null }),
        ),
      );
    },
  };
}
