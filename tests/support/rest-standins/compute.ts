// A stand-in for the Compute Engine REST API (v1) serving a ComputeWorld on the real paths, with
// the real reply shapes: resources, {items, nextPageToken} lists, aggregated lists keyed by
// "zones/<zone>", getHealth/listInstances POSTs, guest attributes, the `filter` query (regex form
// "field eq|ne value", several in parentheses), bearer-token checks, per-method IAM permissions
// and Google's error body {error:{code,message,errors:[{message,domain,reason}],status}}.
import type { compute_v1 } from "@googleapis/compute";
import { bearerToken, startStandin, type StandinReply, type StandinRequest, type StandinServer } from "./http";
import type { ComputeWorld } from "./world";

export interface ComputeFault {
  /** matched against "METHOD /compute/v1/projects/..." */
  match: RegExp;
  status: 429 | 500 | 503 | 403 | 404;
  /** how many matching requests fail before the stand-in answers normally; Infinity = always */
  times: number;
}

export interface ComputeStandinOptions {
  token: string;
  /** IAM permissions the caller lacks, e.g. "compute.backendServices.get" */
  deniedPermissions?: string[];
  /** the Compute API is disabled in the project (every call: 403 accessNotConfigured) */
  apiDisabled?: boolean;
  faults?: ComputeFault[];
  /** list page size (the real API defaults to 500); small values exercise the client's paging */
  pageSize?: number;
}

export interface ComputeStandin extends StandinServer {
  world: ComputeWorld;
  options: ComputeStandinOptions;
}

const statusNames: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};
const reasons: Record<number, string> = {
  400: "invalid",
  401: "authError",
  403: "forbidden",
  404: "notFound",
  429: "rateLimitExceeded",
  500: "backendError",
  503: "backendError",
};

export function googleError(code: number, message: string, reason = reasons[code] ?? "error"): StandinReply {
  return {
    status: code,
    body: { error: { code, message, errors: [{ message, domain: "global", reason }], status: statusNames[code] } },
  };
}

type Handler = (params: string[], request: StandinRequest) => StandinReply;
interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  permission: string;
  handle: Handler;
}

function zoneOf(link: string | null | undefined): string | undefined {
  return link ? /\/zones\/([^/]+)/.exec(link)?.[1] : undefined;
}

/** The regex filter form: "name eq k8s.*", '(direction eq "INGRESS") (name ne "x")'. */
export function parseComputeFilter(filter: string): ((item: Record<string, unknown>) => boolean) | Error {
  const clauses = filter.includes("(") ? [...filter.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]) : [filter];
  const tests: ((item: Record<string, unknown>) => boolean)[] = [];
  for (const clause of clauses) {
    const m = /^\s*([A-Za-z][\w.]*)\s+(eq|ne)\s+"?(.*?)"?\s*$/.exec(clause);
    if (!m) return new Error(`Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`);
    const [, field, op, value] = m;
    const regex = new RegExp(`^(?:${value})$`);
    tests.push((item) => {
      const actual = field.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], item);
      const hit = actual !== undefined && regex.test(String(actual));
      return op === "eq" ? hit : !hit;
    });
  }
  return (item) => tests.every((t) => t(item));
}

export async function startComputeStandin(world: ComputeWorld, options: ComputeStandinOptions): Promise<ComputeStandin> {
  const project = world.project;
  const notFound = (kind: string, name: string, scope = "global") =>
    googleError(404, `The resource 'projects/${project}/${scope}/${kind}/${name}' was not found`);
  const byName = <T extends { name?: string | null }>(items: T[], name: string) => items.find((i) => i.name === name);
  const pageSize = options.pageSize ?? 500;

  const list = <T>(kind: string, items: T[], request: StandinRequest): StandinReply => {
    const filtered = applyFilter(items, request);
    if (filtered instanceof Error) return googleError(400, filtered.message, "invalid");
    const start = Number(request.query.get("pageToken") ?? "0");
    const page = filtered.slice(start, start + pageSize);
    const body: Record<string, unknown> = { kind, id: `projects/${project}`, items: page, selfLink: "" };
    if (start + pageSize < filtered.length) body.nextPageToken = String(start + pageSize);
    return { status: 200, body };
  };

  const aggregated = <T extends { zone?: string | null }>(kind: string, key: string, items: T[], request: StandinRequest): StandinReply => {
    const filtered = applyFilter(items, request);
    if (filtered instanceof Error) return googleError(400, filtered.message, "invalid");
    const byZone: Record<string, unknown> = {};
    for (const zone of ["us-central1-a", "us-central1-b", "us-central1-c", "europe-west1-b"]) {
      const inZone = filtered.filter((i) => zoneOf(i.zone) === zone);
      byZone[`zones/${zone}`] =
        inZone.length > 0
          ? { [key]: inZone }
          : { warning: { code: "NO_RESULTS_ON_PAGE", message: "There are no results for scope 'zones/" + zone + "' on this page.", data: [{ key: "scope", value: `zones/${zone}` }] } };
    }
    return { status: 200, body: { kind, id: `projects/${project}/aggregated/${key}`, items: byZone } };
  };

  // Global routes see only resources without a region; regions/<r>/ routes only that region's.
  const scoped = <T extends { name?: string | null; region?: string | null }>(items: T[], region: string | undefined) =>
    items.filter((i) => (i.region ? i.region.slice(i.region.lastIndexOf("/") + 1) : undefined) === region);
  const getIn = <T extends { name?: string | null; region?: string | null }>(items: T[], kind: string, region: string | undefined, n: string) =>
    found(byName(scoped(items, region), n)) ?? notFound(kind, n, region ? `regions/${region}` : "global");
  const health = (n: string, r: StandinRequest, region: string | undefined): StandinReply => {
    const service = byName(scoped(world.backendServices, region), n);
    if (!service) return notFound("backendServices", n, region ? `regions/${region}` : "global");
    const group = (r.body as compute_v1.Schema$ResourceGroupReference | undefined)?.group;
    if (!group) return googleError(400, "Required field 'resource.group' not specified", "required");
    // the API takes a group link of any version (compute/v1, compute/beta) for the same group
    const sameGroup = (a: string | null | undefined, b: string) => a?.replace(/\/compute\/(v1|beta|alpha)\//, "/compute/v1/") === b.replace(/\/compute\/(v1|beta|alpha)\//, "/compute/v1/");
    if (!(service.backends ?? []).some((b) => sameGroup(b.group, group))) {
      return googleError(400, `Invalid value for field 'resource.group': '${group}'. Resource is not a backend of this backend service.`, "invalid");
    }
    const healthStatus = Object.entries(world.health[n] ?? {}).find(([link]) => sameGroup(link, group))?.[1] ?? [];
    const body: compute_v1.Schema$BackendServiceGroupHealth = { kind: "compute#backendServiceGroupHealth", healthStatus };
    return { status: 200, body };
  };
  const regional: Route[] = [
    { method: "GET", pattern: /^regions\/([^/]+)\/forwardingRules\/([^/]+)$/, permission: "compute.forwardingRules.get",
      handle: ([r, n]) => getIn(world.forwardingRules, "forwardingRules", r, n) },
    { method: "GET", pattern: /^regions\/([^/]+)\/targetHttpProxies\/([^/]+)$/, permission: "compute.regionTargetHttpProxies.get",
      handle: ([r, n]) => getIn(world.targetHttpProxies, "targetHttpProxies", r, n) },
    { method: "GET", pattern: /^regions\/([^/]+)\/targetHttpsProxies\/([^/]+)$/, permission: "compute.regionTargetHttpsProxies.get",
      handle: ([r, n]) => getIn(world.targetHttpsProxies, "targetHttpsProxies", r, n) },
    { method: "GET", pattern: /^regions\/([^/]+)\/urlMaps\/([^/]+)$/, permission: "compute.regionUrlMaps.get",
      handle: ([r, n]) => getIn(world.urlMaps, "urlMaps", r, n) },
    { method: "GET", pattern: /^regions\/([^/]+)\/backendServices\/([^/]+)$/, permission: "compute.regionBackendServices.get",
      handle: ([r, n]) => getIn(world.backendServices, "backendServices", r, n) },
    { method: "POST", pattern: /^regions\/([^/]+)\/backendServices\/([^/]+)\/getHealth$/, permission: "compute.regionBackendServices.get",
      handle: ([r, n], req) => health(n, req, r) },
    { method: "GET", pattern: /^regions\/([^/]+)\/healthChecks\/([^/]+)$/, permission: "compute.regionHealthChecks.get",
      handle: ([r, n]) => getIn(world.healthChecks, "healthChecks", r, n) },
    { method: "GET", pattern: /^regions\/([^/]+)\/subnetworks$/, permission: "compute.subnetworks.list",
      handle: ([r], req) => list("compute#subnetworkList", scoped(world.subnetworks ?? [], r), req) },
    { method: "GET", pattern: /^global\/healthChecks\/([^/]+)$/, permission: "compute.healthChecks.get",
      handle: ([n]) => getIn(world.healthChecks, "healthChecks", undefined, n) },
    { method: "GET", pattern: /^global\/httpHealthChecks\/([^/]+)$/, permission: "compute.httpHealthChecks.get",
      handle: ([n]) => found(byName(world.httpHealthChecks ?? [], n)) ?? notFound("httpHealthChecks", n) },
  ];

  const routes: Route[] = [
    ...regional,
    { method: "GET", pattern: /^global\/forwardingRules\/([^/]+)$/, permission: "compute.globalForwardingRules.get",
      handle: ([n]) => getIn(world.forwardingRules, "forwardingRules", undefined, n) },
    { method: "GET", pattern: /^global\/forwardingRules$/, permission: "compute.globalForwardingRules.list",
      handle: (_, r) => list("compute#forwardingRuleList", world.forwardingRules, r) },
    { method: "GET", pattern: /^global\/targetHttpProxies\/([^/]+)$/, permission: "compute.targetHttpProxies.get",
      handle: ([n]) => getIn(world.targetHttpProxies, "targetHttpProxies", undefined, n) },
    { method: "GET", pattern: /^global\/targetHttpProxies$/, permission: "compute.targetHttpProxies.list",
      handle: (_, r) => list("compute#targetHttpProxyList", world.targetHttpProxies, r) },
    { method: "GET", pattern: /^global\/targetHttpsProxies\/([^/]+)$/, permission: "compute.targetHttpsProxies.get",
      handle: ([n]) => getIn(world.targetHttpsProxies, "targetHttpsProxies", undefined, n) },
    { method: "GET", pattern: /^global\/targetHttpsProxies$/, permission: "compute.targetHttpsProxies.list",
      handle: (_, r) => list("compute#targetHttpsProxyList", world.targetHttpsProxies, r) },
    { method: "GET", pattern: /^global\/urlMaps\/([^/]+)$/, permission: "compute.urlMaps.get",
      handle: ([n]) => getIn(world.urlMaps, "urlMaps", undefined, n) },
    { method: "GET", pattern: /^global\/urlMaps$/, permission: "compute.urlMaps.list",
      handle: (_, r) => list("compute#urlMapList", world.urlMaps, r) },
    { method: "GET", pattern: /^global\/backendServices\/([^/]+)$/, permission: "compute.backendServices.get",
      handle: ([n]) => getIn(world.backendServices, "backendServices", undefined, n) },
    { method: "GET", pattern: /^global\/backendServices$/, permission: "compute.backendServices.list",
      handle: (_, r) => list("compute#backendServiceList", world.backendServices, r) },
    { method: "POST", pattern: /^global\/backendServices\/([^/]+)\/getHealth$/, permission: "compute.backendServices.get",
      handle: ([n], r) => health(n, r, undefined) },
    { method: "GET", pattern: /^global\/healthChecks$/, permission: "compute.healthChecks.list",
      handle: (_, r) => list("compute#healthCheckList", world.healthChecks, r) },
    { method: "GET", pattern: /^global\/firewalls$/, permission: "compute.firewalls.list",
      handle: (_, r) => list("compute#firewallList", world.firewalls, r) },
    { method: "GET", pattern: /^zones\/([^/]+)\/instanceGroups\/([^/]+)$/, permission: "compute.instanceGroups.get",
      handle: ([z, n]) => found(world.instanceGroups.find((g) => g.name === n && zoneOf(g.zone) === z)) ?? notFound("instanceGroups", n, `zones/${z}`) },
    { method: "POST", pattern: /^zones\/([^/]+)\/instanceGroups\/([^/]+)\/listInstances$/, permission: "compute.instanceGroups.list",
      handle: ([z, n], r) => {
        const group = world.instanceGroups.find((g) => g.name === n && zoneOf(g.zone) === z);
        if (!group) return notFound("instanceGroups", n, `zones/${z}`);
        const state = (r.body as compute_v1.Schema$InstanceGroupsListInstancesRequest | undefined)?.instanceState ?? "ALL";
        const members = (world.instanceGroupMembers[group.selfLink ?? ""] ?? [])
          .map((name) => world.instances.find((i) => i.name === name))
          .filter((i): i is compute_v1.Schema$Instance => i !== undefined && (state === "ALL" || i.status === "RUNNING"))
          .map((i): compute_v1.Schema$InstanceWithNamedPorts => ({ instance: i.selfLink, status: i.status, namedPorts: group.namedPorts }));
        return list("compute#instanceGroupsListInstances", members, r);
      } },
    { method: "GET", pattern: /^aggregated\/instanceGroups$/, permission: "compute.instanceGroups.list",
      handle: (_, r) => aggregated("compute#instanceGroupAggregatedList", "instanceGroups", world.instanceGroups, r) },
    { method: "GET", pattern: /^zones\/([^/]+)\/instances\/([^/]+)$/, permission: "compute.instances.get",
      handle: ([z, n]) => found(world.instances.find((i) => i.name === n && zoneOf(i.zone) === z)) ?? notFound("instances", n, `zones/${z}`) },
    { method: "GET", pattern: /^zones\/([^/]+)\/instances\/([^/]+)\/getGuestAttributes$/, permission: "compute.instances.getGuestAttributes",
      handle: ([z, n], r) => {
        const instance = world.instances.find((i) => i.name === n && zoneOf(i.zone) === z);
        if (!instance) return notFound("instances", n, `zones/${z}`);
        const queryPath = r.query.get("queryPath") ?? "";
        const enabled = (instance.metadata?.items ?? []).some((m) => m.key === "enable-guest-attributes" && m.value?.toUpperCase() === "TRUE");
        const namespace = queryPath.replace(/\/$/, "");
        const items = (world.guestAttributes[n] ?? []).filter((e) => e.namespace === namespace);
        if (!enabled || items.length === 0) return googleError(404, `The resource 'projects/${project}/zones/${z}/instances/${n}/guestAttributes/${queryPath}' was not found`);
        const body: compute_v1.Schema$GuestAttributes = {
          kind: "compute#guestAttributes",
          selfLink: `${instance.selfLink}/guestAttributes/${queryPath}`,
          queryPath,
          queryValue: { items },
        };
        return { status: 200, body };
      } },
    // instances.getSerialPortOutput: the output from byte `start` on (the oldest retained byte when
    // `start` is older), with `start` and `next` byte offsets as strings (int64 in the API).
    { method: "GET", pattern: /^zones\/([^/]+)\/instances\/([^/]+)\/serialPort$/, permission: "compute.instances.getSerialPortOutput",
      handle: ([z, n], r) => {
        const instance = world.instances.find((i) => i.name === n && zoneOf(i.zone) === z);
        if (!instance) return notFound("instances", n, `zones/${z}`);
        const port = Number(r.query.get("port") ?? "1");
        if (!Number.isInteger(port) || port < 1 || port > 4) return googleError(400, `Invalid value for field 'port': '${r.query.get("port")}'. Must be between 1 and 4.`, "invalid");
        const output = port === 1 ? world.serialPorts?.[n] : undefined;
        const dropped = output?.droppedBytes ?? 0;
        const contents = output?.contents ?? "";
        const total = dropped + Buffer.byteLength(contents);
        const asked = Number(r.query.get("start") ?? "0");
        const from = Math.max(asked, dropped);
        const body: compute_v1.Schema$SerialPortOutput = {
          kind: "compute#serialPortOutput",
          selfLink: `${instance.selfLink}/serialPort?port=${port}`,
          contents: Buffer.from(contents).subarray(Math.min(from - dropped, Buffer.byteLength(contents))).toString("utf8"),
          start: String(from),
          next: String(total),
        };
        return { status: 200, body };
      } },
    { method: "GET", pattern: /^zones\/([^/]+)\/networkEndpointGroups\/([^/]+)$/, permission: "compute.networkEndpointGroups.get",
      handle: ([z, n]) => found(world.networkEndpointGroups.find((g) => g.name === n && zoneOf(g.zone) === z)) ?? notFound("networkEndpointGroups", n, `zones/${z}`) },
    // networkEndpointGroups.listNetworkEndpoints: a POST that only reads; healths only with healthStatus SHOW
    { method: "POST", pattern: /^zones\/([^/]+)\/networkEndpointGroups\/([^/]+)\/listNetworkEndpoints$/, permission: "compute.networkEndpointGroups.get",
      handle: ([z, n], r) => {
        const neg = world.networkEndpointGroups.find((g) => g.name === n && zoneOf(g.zone) === z);
        if (!neg) return notFound("networkEndpointGroups", n, `zones/${z}`);
        const show = (r.body as compute_v1.Schema$NetworkEndpointGroupsListEndpointsRequest | undefined)?.healthStatus === "SHOW";
        const items = (world.networkEndpoints?.[neg.selfLink ?? ""] ?? []).map((e): compute_v1.Schema$NetworkEndpointWithHealthStatus =>
          show ? e : { networkEndpoint: e.networkEndpoint });
        return list("compute#networkEndpointGroupsListNetworkEndpoints", items, r);
      } },
    { method: "GET", pattern: /^regions\/([^/]+)\/networkEndpointGroups\/([^/]+)$/, permission: "compute.regionNetworkEndpointGroups.get",
      handle: ([rg, n]) => found(world.networkEndpointGroups.find((g) => g.name === n && g.region?.endsWith(`/regions/${rg}`))) ?? notFound("networkEndpointGroups", n, `regions/${rg}`) },
    { method: "GET", pattern: /^global\/networkEndpointGroups\/([^/]+)$/, permission: "compute.globalNetworkEndpointGroups.get",
      handle: ([n]) => found(world.networkEndpointGroups.find((g) => g.name === n && !g.zone && !g.region)) ?? notFound("networkEndpointGroups", n) },
    { method: "GET", pattern: /^aggregated\/networkEndpointGroups$/, permission: "compute.networkEndpointGroups.list",
      handle: (_, r) => aggregated("compute#networkEndpointGroupAggregatedList", "networkEndpointGroups", world.networkEndpointGroups, r) },
  ];

  const faultsLeft = new Map<ComputeFault, number>();
  for (const fault of options.faults ?? []) faultsLeft.set(fault, fault.times);

  const server = await startStandin((request) => {
    const token = bearerToken(request);
    if (token !== options.token) {
      return googleError(401, "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "required");
    }
    const prefix = `/compute/v1/projects/${project}/`;
    if (!request.path.startsWith(prefix)) {
      return request.path.startsWith("/compute/v1/projects/")
        ? googleError(403, `Required 'compute.projects.get' permission for 'projects/${request.path.split("/")[4]}'`)
        : googleError(404, `Not Found: ${request.path}`);
    }
    if (options.apiDisabled) {
      return googleError(403, `Compute Engine API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/compute.googleapis.com/overview?project=${project} then retry.`, "accessNotConfigured");
    }
    const rest = request.path.slice(prefix.length);
    for (const [fault, left] of faultsLeft) {
      if (left > 0 && fault.match.test(`${request.method} ${request.path}`)) {
        faultsLeft.set(fault, left - 1);
        const messages: Record<number, string> = {
          429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'compute.googleapis.com'",
          500: "Internal error. Please try again or contact Google Support.",
          503: "The service is currently unavailable.",
          403: "Forbidden",
          404: `The resource '${rest}' was not found`,
        };
        return googleError(fault.status, messages[fault.status]);
      }
    }
    for (const route of routes) {
      const m = route.pattern.exec(rest);
      if (!m || route.method !== request.method) continue;
      if (options.deniedPermissions?.includes(route.permission)) {
        const resource = `projects/${project}/${rest.replace(/\/(getHealth|listInstances|listNetworkEndpoints|getGuestAttributes|serialPort)$/, "")}`;
        return googleError(403, `Required '${route.permission}' permission for '${resource}'`);
      }
      return route.handle(m.slice(1), request);
    }
    return googleError(404, `The requested URL /compute/v1/projects/${project}/${rest} was not found on this server.`);
  });
  return { ...server, world, options };
}

function found<T>(item: T | undefined): StandinReply | undefined {
  return item === undefined ? undefined : { status: 200, body: item };
}

function applyFilter<T>(items: T[], request: StandinRequest): T[] | Error {
  const filter = request.query.get("filter");
  if (!filter) return items;
  const test = parseComputeFilter(filter);
  if (test instanceof Error) return test;
  return items.filter((i) => test(i as Record<string, unknown>));
}
