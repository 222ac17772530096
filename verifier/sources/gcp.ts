// The Google Cloud source: follows the load balancer the GKE ingress controller made, hop by hop,
// through the Compute Engine API. Resource names come from the Ingress annotations
// (ingress.kubernetes.io/*) and from the links the resources hold; they are never computed, since
// the controller's naming scheme has changed over the years. Every failed hop becomes a Problem
// with a hint, and the hops that do not depend on it are still collected.
import { auth, compute, type compute_v1 } from "@googleapis/compute";
import type {
  BackendHealthModel,
  BackendServiceModel,
  FirewallRuleModel,
  ForwardingRuleModel,
  HealthCheckModel,
  HealthState,
  InstanceGroupModel,
  InstanceModel,
  LoadBalancerModel,
  NetworkEndpointGroupModel,
  NetworkEndpointModel,
  Problem,
  TargetProxyModel,
  UrlMapModel,
} from "../model";
import { negDescriptionService } from "../neg";
import { hopRunner, type HopRunner } from "./hop";
import type { LoadBalancerResult, Progress } from "./types";

export interface GcpOptions {
  /** Compute API root, e.g. a local stand-in "http://127.0.0.1:40123/"; default Google's */
  rootUrl?: string;
  /** OAuth2 access token; default from Application Default Credentials */
  accessToken?: string;
  progress: Progress;
  /** bounded retry with exponential backoff on 429 / 5xx / no answer (default 4 retries: 0.5, 0.5, 1.5, 3.5 s) */
  retry?: RetryPolicy;
  /** the cluster's location (zone or region): regional Ingress classes live in its region */
  location?: string;
  /** spec.ingressClassName or the kubernetes.io/ingress.class annotation (default "gce": global) */
  ingressClass?: string;
  /** the cluster's VPC network name, when the instances do not say it */
  network?: string;
  /** where fetchHostKeys reports instances whose keys it could not read (its result has no room for them) */
  problems?: Problem[];
  /** the HTTP transport under the Compute client (gaxios `fetchImplementation`): a snapshot folder or a recorder */
  fetchImplementation?: typeof fetch;
}

export interface RetryPolicy {
  /** retries after the first attempt */
  retries: number;
  /** delay before the first retry; later ones follow gaxios' exponential formula */
  initialDelayMs: number;
  /** cap on any single delay */
  maxDelayMs: number;
}

const defaultRetry: RetryPolicy = { retries: 4, initialDelayMs: 500, maxDelayMs: 8000 };

/** Where the Google front ends and their health checkers come from (the article's firewall hop). */
export const healthCheckSourceRanges = ["130.211.0.0/22", "35.191.0.0/16"] as const;

/** The annotations the GKE ingress controller writes once the load balancer exists. */
export const lbAnnotationKeys = {
  forwardingRule: "ingress.kubernetes.io/forwarding-rule",
  httpsForwardingRule: "ingress.kubernetes.io/https-forwarding-rule",
  targetProxy: "ingress.kubernetes.io/target-proxy",
  httpsTargetProxy: "ingress.kubernetes.io/https-target-proxy",
  urlMap: "ingress.kubernetes.io/url-map",
  redirectUrlMap: "ingress.kubernetes.io/redirect-url-map",
  backends: "ingress.kubernetes.io/backends",
} as const;

const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

// ---------------------------------------------------------------- credentials and client

/** An access token from Application Default Credentials (gcloud ADC, a key file, or the metadata server). */
export async function googleAccessToken(): Promise<string> {
  // Without a credentials file, google-auth-library would ping the GCE metadata server over the
  // network to learn whether it runs on Google Cloud; the BIOS probe answers that locally.
  process.env.METADATA_SERVER_DETECTION ??= "bios-only";
  try {
    const googleAuth = new auth.GoogleAuth({ scopes: [cloudPlatformScope] });
    const token = await googleAuth.getAccessToken();
    if (!token) throw new Error("the credentials gave no access token");
    return token;
  } catch (error) {
    // The fix (gcloud auth application-default login) is each caller's Problem hint.
    throw new Error(`could not get Google credentials: ${errorText(error)}`);
  }
}

/** A Compute v1 client sending the bearer token, retrying 429 / 5xx with bounded exponential backoff. */
export async function computeClient(opts: Pick<GcpOptions, "rootUrl" | "accessToken" | "retry" | "fetchImplementation">): Promise<compute_v1.Compute> {
  const token = opts.accessToken ?? (await googleAccessToken());
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: token });
  const retry = opts.retry ?? defaultRetry;
  return compute({
    version: "v1",
    rootUrl: opts.rootUrl,
    auth: oauth,
    ...(opts.fetchImplementation ? { fetchImplementation: opts.fetchImplementation } : {}),
    retry: retry.retries > 0,
    retryConfig: {
      retry: retry.retries,
      noResponseRetries: Math.min(retry.retries, 2),
      retryDelay: retry.initialDelayMs,
      retryDelayMultiplier: 2,
      maxRetryDelay: retry.maxDelayMs,
      // getHealth and listInstances are POSTs that only read, so they are safe to repeat
      httpMethodsToRetry: ["GET", "POST"],
      statusCodesToRetry: [
        [429, 429],
        [500, 599],
      ],
    },
  });
}

// ---------------------------------------------------------------- errors -> Problems

interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; errors?: { reason?: string; message?: string }[] };
}

/** HTTP status of a failed call, or undefined when no answer came back. */
export function errorStatus(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: { status?: unknown } };
  const status = e?.response?.status ?? e?.status;
  return typeof status === "number" ? status : undefined;
}

function errorText(error: unknown): string {
  const body = (error as { response?: { data?: GoogleErrorBody } })?.response?.data;
  const message = body?.error?.message;
  if (typeof message === "string") return message;
  return error instanceof Error ? error.message : String(error);
}

function errorReason(error: unknown): string | undefined {
  const body = (error as { response?: { data?: GoogleErrorBody } })?.response?.data;
  return body?.error?.errors?.[0]?.reason ?? body?.error?.status;
}

/** A Problem for a failed Compute call: what failed, why, and the command that fixes it. */
export function gcpProblem(error: unknown, project: string, what: string, subject?: string): Problem {
  const status = errorStatus(error);
  const text = errorText(error);
  const problem = (message: string, hint: string): Problem => ({ source: "gcp", subject, message, hint });
  if (status === 401) {
    return problem(
      `${what}: the Compute API refused the credentials (401: ${text})`,
      "run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS) and re-run",
    );
  }
  if (status === 403) {
    const reason = errorReason(error);
    if (reason === "accessNotConfigured" || reason === "SERVICE_DISABLED" || /has not been used|is disabled/i.test(text)) {
      return problem(
        `${what}: the Compute Engine API (compute.googleapis.com) is not enabled in project ${project}`,
        `gcloud services enable compute.googleapis.com --project ${project}`,
      );
    }
    const permission = /Required '([^']+)' permission/.exec(text)?.[1];
    return problem(
      `${what}: permission denied (403)${permission ? `: the caller lacks ${permission}` : ""} in project ${project} (${text})`,
      `grant a role with ${permission ?? "read access to Compute Engine"}, e.g. ` +
        `gcloud projects add-iam-policy-binding ${project} --member=user:$(gcloud config get-value account) --role=roles/compute.viewer`,
    );
  }
  if (status === 404) {
    return problem(
      `${what}: not found (404): the resource is gone (${text})`,
      "the Ingress annotations may name a load balancer the controller has since replaced or deleted; " +
        "check `kubectl describe ingress` for controller events, wait for it to reconcile and re-run",
    );
  }
  if (status === 429 || (status !== undefined && status >= 500)) {
    return problem(
      `${what}: the Compute API kept answering ${status} after bounded retries (${text})`,
      status === 429
        ? `quota or rate limit on compute.googleapis.com in project ${project}; wait a minute and re-run`
        : "Google-side error; wait a minute and re-run",
    );
  }
  if (status === undefined) {
    return problem(`${what}: no answer from the Compute API (${text})`, "check network access to compute.googleapis.com and re-run");
  }
  return problem(`${what}: the Compute API answered ${status} (${text})`, "see the message; re-run with the problem fixed");
}

// ---------------------------------------------------------------- small helpers

/** Last path segment of a resource link ("https://.../global/urlMaps/x" -> "x"). */
export function lastSegment(link: string): string {
  return link.slice(link.lastIndexOf("/") + 1);
}

export function zoneOfLink(link: string | null | undefined): string | undefined {
  return link ? /\/zones\/([^/]+)/.exec(link)?.[1] : undefined;
}

function ipv4ToNumber(ip: string): number | undefined {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** True when CIDR `outer` contains all of CIDR `inner` (IPv4). */
export function cidrContains(outer: string, inner: string): boolean {
  const [oIp, oLen = "32"] = outer.split("/");
  const [iIp, iLen = "32"] = inner.split("/");
  const o = ipv4ToNumber(oIp);
  const i = ipv4ToNumber(iIp);
  const ol = Number(oLen);
  const il = Number(iLen);
  if (o === undefined || i === undefined || !(ol >= 0 && ol <= 32) || il < ol) return false;
  const mask = ol === 0 ? 0 : (0xffffffff << (32 - ol)) >>> 0;
  return ((o & mask) >>> 0) === ((i & mask) >>> 0);
}

/** Reads every page of a Compute list call. */
export async function allPages<T>(fetchPage: (pageToken?: string) => Promise<{ items?: T[] | null; nextPageToken?: string | null }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    all.push(...(page.items ?? []));
    token = page.nextPageToken ?? undefined;
  } while (token);
  return all;
}

function healthState(state: string | null | undefined): HealthState {
  switch (state) {
    case "HEALTHY":
    case "UNHEALTHY":
    case "DRAINING":
    case "TIMEOUT":
      return state;
    default:
      return "UNKNOWN";
  }
}

// ---------------------------------------------------------------- the load balancer

/** Where a Compute resource lives: global, or under regions/<region>/ (regional Ingress classes). */
export interface ResourceRef {
  name: string;
  region?: string;
}

/** A link ("https://.../compute/v1|beta/projects/p/regions/r/urlMaps/x") or a bare name, as a ResourceRef. */
export function refOf(linkOrName: string, defaultRegion?: string): ResourceRef {
  const region = /\/regions\/([^/]+)\//.exec(linkOrName)?.[1];
  if (linkOrName.includes("/")) return { name: lastSegment(linkOrName), region: region ?? (/\/global\//.test(linkOrName) ? undefined : defaultRegion) };
  return { name: linkOrName, region: defaultRegion };
}

/**
 * The Ingress classes whose load balancer is regional (ingress-gce pkg/annotations/ingress.go:
 * GceL7ILBIngressClass "gce-internal", GceL7XLBRegionalIngressClass "gce-regional-external");
 * "gce" (the default) and "gce-multi-cluster" are global.
 */
export const regionalIngressClasses = ["gce-internal", "gce-regional-external"] as const;

/** The region of a cluster location: a zone "us-central1-a" -> "us-central1"; a region stays. */
export function regionOfLocation(location: string): string {
  return /^[a-z]+-[a-z]+\d+-[a-z]$/.test(location) ? location.replace(/-[a-z]$/, "") : location;
}

/** Names read from the Ingress annotations; absent ones stay undefined. */
interface AnnotatedNames {
  forwardingRule?: string;
  httpsForwardingRule?: string;
  targetProxy?: string;
  httpsTargetProxy?: string;
  urlMap?: string;
  redirectUrlMap?: string;
  /** backend service name -> health as the controller last saw it */
  backends?: Record<string, string>;
}

function readAnnotations(annotations: Record<string, string>, problems: Problem[]): AnnotatedNames {
  const names: AnnotatedNames = {
    forwardingRule: annotations[lbAnnotationKeys.forwardingRule],
    httpsForwardingRule: annotations[lbAnnotationKeys.httpsForwardingRule],
    targetProxy: annotations[lbAnnotationKeys.targetProxy],
    httpsTargetProxy: annotations[lbAnnotationKeys.httpsTargetProxy],
    urlMap: annotations[lbAnnotationKeys.urlMap],
    redirectUrlMap: annotations[lbAnnotationKeys.redirectUrlMap],
  };
  const backendsText = annotations[lbAnnotationKeys.backends];
  if (backendsText !== undefined) {
    try {
      const parsed: unknown = JSON.parse(backendsText);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
      names.backends = Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    } catch (error) {
      problems.push({
        source: "gcp",
        subject: lbAnnotationKeys.backends,
        message: `the Ingress annotation ${lbAnnotationKeys.backends} is not a JSON object of backend service -> health (${errorText(error)}): ${backendsText.slice(0, 120)}`,
        hint: "the GKE ingress controller writes it; check `kubectl describe ingress` for controller errors",
      });
    }
  }
  return names;
}

const notProvisionedHint =
  "the load balancer is not made (yet): the controller's reason, if any, is in the Ingress's events (`kubectl describe ingress`); " +
  "right after `pulumi up` it takes a few minutes";

/** {"kubernetes.io/service-name":"ns/name","kubernetes.io/service-port":"80"} (ingress-gce pkg/utils/description.go), else undefined. */
export function serviceOfDescription(description: string | null | undefined): { service: string; port?: string } | undefined {
  if (!description) return undefined;
  try {
    const parsed = JSON.parse(description) as Record<string, unknown>;
    const service = parsed["kubernetes.io/service-name"];
    const port = parsed["kubernetes.io/service-port"];
    return typeof service === "string" ? { service, port: typeof port === "string" ? port : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** compute#healthCheck (any protocol block) or a legacy compute#httpHealthCheck, as a HealthCheckModel. */
export function toHealthCheckModel(hc: compute_v1.Schema$HealthCheck | compute_v1.Schema$HttpHealthCheck, name: string): HealthCheckModel {
  const legacy = hc as compute_v1.Schema$HttpHealthCheck;
  const modern = hc as compute_v1.Schema$HealthCheck;
  const common = {
    name: hc.name ?? name,
    checkIntervalSec: hc.checkIntervalSec ?? undefined,
    timeoutSec: hc.timeoutSec ?? undefined,
    healthyThreshold: hc.healthyThreshold ?? undefined,
    unhealthyThreshold: hc.unhealthyThreshold ?? undefined,
  };
  if (modern.type) {
    const block = modern.httpHealthCheck ?? modern.httpsHealthCheck ?? modern.http2HealthCheck ?? modern.tcpHealthCheck ?? modern.sslHealthCheck ?? modern.grpcHealthCheck;
    const b = (block ?? {}) as { port?: number | null; portSpecification?: string | null; requestPath?: string | null; host?: string | null };
    return { ...common, type: modern.type, port: b.port ?? undefined, portSpecification: b.portSpecification ?? undefined, requestPath: b.requestPath ?? undefined, host: b.host ?? undefined };
  }
  // legacy httpHealthChecks: always HTTP on a fixed port, path default "/"
  return { ...common, type: "HTTP", port: legacy.port ?? 80, portSpecification: "USE_FIXED_PORT", requestPath: legacy.requestPath ?? "/", host: legacy.host ?? undefined };
}

function toFirewallModel(f: compute_v1.Schema$Firewall): FirewallRuleModel {
  return {
    name: f.name ?? "",
    network: f.network ? lastSegment(f.network) : undefined,
    direction: f.direction === "EGRESS" ? "EGRESS" : "INGRESS",
    priority: f.priority ?? 1000,
    sourceRanges: f.sourceRanges ?? [],
    sourceTags: f.sourceTags ?? undefined,
    targetTags: f.targetTags ?? [],
    targetServiceAccounts: f.targetServiceAccounts ?? undefined,
    allowed: (f.allowed ?? []).map((a) => ({ protocol: a.IPProtocol ?? "", ports: a.ports ?? [] })),
    denied: f.denied ? f.denied.map((a) => ({ protocol: a.IPProtocol ?? "", ports: a.ports ?? [] })) : undefined,
    disabled: f.disabled ?? false,
  };
}

function toUrlMapModel(urlMap: compute_v1.Schema$UrlMap, ref: ResourceRef): UrlMapModel {
  const redirect = urlMap.defaultUrlRedirect;
  return {
    name: urlMap.name ?? ref.name,
    defaultService: urlMap.defaultService ? lastSegment(urlMap.defaultService) : undefined,
    hostRuleCount: urlMap.hostRules?.length ?? 0,
    pathMatcherCount: urlMap.pathMatchers?.length ?? 0,
    ...(ref.region ? { region: ref.region } : {}),
    ...(urlMap.hostRules?.length ? { hostRules: urlMap.hostRules.map((h) => ({ hosts: h.hosts ?? [], pathMatcher: h.pathMatcher ?? "" })) } : {}),
    ...(urlMap.pathMatchers?.length
      ? {
          pathMatchers: urlMap.pathMatchers.map((m) => ({
            name: m.name ?? "",
            defaultService: m.defaultService ? lastSegment(m.defaultService) : undefined,
            pathRules: (m.pathRules ?? []).map((r) => ({ paths: r.paths ?? [], service: r.service ? lastSegment(r.service) : undefined })),
          })),
        }
      : {}),
    ...(redirect
      ? {
          defaultUrlRedirect: {
            httpsRedirect: redirect.httpsRedirect ?? undefined,
            redirectResponseCode: redirect.redirectResponseCode ?? undefined,
            hostRedirect: redirect.hostRedirect ?? undefined,
            pathRedirect: redirect.pathRedirect ?? undefined,
          },
        }
      : {}),
  };
}

/** The backend service links a URL map holds: default, path matchers' defaults and path rules. */
function backendLinksOf(urlMap: compute_v1.Schema$UrlMap): string[] {
  const links = [urlMap.defaultService, ...(urlMap.pathMatchers ?? []).flatMap((m) => [m.defaultService, ...(m.pathRules ?? []).map((r) => r.service), ...(m.routeRules ?? []).flatMap((r) => (r.routeAction?.weightedBackendServices ?? []).map((w) => w.backendService))])];
  return links.filter((l): l is string => typeof l === "string" && l.includes("/backendServices/"));
}

/**
 * Follows forwarding rule -> target proxy -> URL map -> backend services (+ getHealth, health
 * checks) -> instance groups (zone + name, named ports, members) -> instances, and lists every
 * INGRESS firewall rule. Both frontends are read when the Ingress has them (HTTP:
 * forwarding-rule + target-proxy; HTTPS: https-forwarding-rule + https-target-proxy); the proxy's
 * kind is taken from the forwarding rule's link. A frontend whose URL map is the
 * `redirect-url-map` only redirects and is kept in `redirect`; the other one is the path judged.
 * Regional classes (opts.ingressClass gce-internal / gce-regional-external, region from
 * opts.location) are read from regions/<region>/; later hops follow the links' own scope.
 * Never throws: every failure is a Problem and the other hops still run.
 */
export async function collectLoadBalancer(
  project: string,
  ingressAnnotations: Record<string, string>,
  opts: GcpOptions,
): Promise<LoadBalancerResult> {
  const problems: Problem[] = [];
  const { progress } = opts;
  const annotations = Object.fromEntries(Object.entries(ingressAnnotations).filter(([k]) => k.startsWith("ingress.kubernetes.io/")));
  const model: LoadBalancerModel = { annotations, backendServices: [], instanceGroups: [], instances: [], healthCheckFirewalls: [] };
  const names = readAnnotations(annotations, problems);
  const ingressClass = opts.ingressClass ?? ingressAnnotations["kubernetes.io/ingress.class"];
  const regional = (regionalIngressClasses as readonly string[]).includes(ingressClass ?? "");
  const region = regional && opts.location ? regionOfLocation(opts.location) : undefined;
  if (regional && !region) {
    problems.push({ source: "gcp", subject: "ingress class", message: `the Ingress class ${ingressClass} makes a regional load balancer, but the cluster's location is unknown, so its region is too`, hint: "pass the cluster's location (stack output location, or --location)" });
  }
  if (region) model.region = region;

  const hasHttp = Boolean(names.forwardingRule || names.targetProxy);
  const hasHttps = Boolean(names.httpsForwardingRule || names.httpsTargetProxy);
  const missing: string[] = [];
  if (!hasHttp && !hasHttps) missing.push(lbAnnotationKeys.forwardingRule, lbAnnotationKeys.targetProxy);
  if (hasHttp && !names.forwardingRule) missing.push(lbAnnotationKeys.forwardingRule);
  if (hasHttps && !names.httpsForwardingRule) missing.push(lbAnnotationKeys.httpsForwardingRule);
  if (!names.urlMap) missing.push(lbAnnotationKeys.urlMap);
  if (annotations[lbAnnotationKeys.backends] === undefined) missing.push(lbAnnotationKeys.backends);
  if (Object.keys(annotations).length === 0) {
    problems.push({ source: "gcp", subject: "ingress annotations", message: "the Ingress carries none of the ingress.kubernetes.io/* annotations that name its load balancer", hint: notProvisionedHint });
  } else if (missing.length > 0) {
    problems.push({ source: "gcp", subject: "ingress annotations", message: `the Ingress lacks the annotation(s) ${missing.join(", ")}`, hint: notProvisionedHint });
  }

  let api: compute_v1.Compute;
  try {
    api = await computeClient(opts);
  } catch (error) {
    problems.push({ source: "gcp", subject: "credentials", message: errorText(error), hint: "run `gcloud auth application-default login` and re-run" });
    progress.hop("gcp", "fail", "no credentials");
    return { value: model, problems };
  }

  const hop = hopRunner(progress, problems, (error, what, subject) => gcpProblem(error, project, what, subject));
  const where = (ref: ResourceRef) => (ref.region ? `regions/${ref.region}/${ref.name}` : ref.name);
  const mismatch = (what: string, annotated: string, linked: string) =>
    problems.push({
      source: "gcp",
      subject: annotated,
      message: `the Ingress annotation names ${what} ${annotated} but the load balancer links ${linked}`,
      hint: "the controller may be replacing the load balancer (see the Ingress's events: `kubectl describe ingress`); re-run when it has reconciled",
    });

  // ---- frontends: forwarding rule -> target proxy -> URL map, HTTP and HTTPS each on their own
  interface Frontend {
    forwardingRule?: ForwardingRuleModel;
    targetProxy?: TargetProxyModel;
    urlMap?: UrlMapModel;
    urlMapLink?: string;
    raw?: compute_v1.Schema$UrlMap;
  }
  const readFrontend = async (frName: string | undefined, proxyName: string | undefined, annotatedKind: "http" | "https"): Promise<Frontend> => {
    const frontend: Frontend = {};
    let proxyRef = proxyName ? refOf(proxyName, region) : undefined;
    let proxyKind = annotatedKind;
    if (frName) {
      const ref = refOf(frName, region);
      const fr = await hop("forwarding rule", where(ref), async () =>
        ref.region
          ? (await api.forwardingRules.get({ project, region: ref.region, forwardingRule: ref.name })).data
          : (await api.globalForwardingRules.get({ project, forwardingRule: ref.name })).data,
      );
      if (fr) {
        const frRegion = fr.region ? lastSegment(fr.region) : undefined;
        frontend.forwardingRule = {
          name: fr.name ?? ref.name,
          ipAddress: fr.IPAddress ?? "",
          ipProtocol: fr.IPProtocol ?? "",
          portRange: fr.portRange ?? undefined,
          target: fr.target ?? "",
          loadBalancingScheme: fr.loadBalancingScheme ?? undefined,
          global: !frRegion,
          ...(frRegion ? { region: frRegion } : {}),
        };
        if (fr.target) {
          const linked = refOf(fr.target, region);
          // the link says which kind of proxy it is, whatever key the annotation used
          proxyKind = fr.target.includes("/targetHttpsProxies/") ? "https" : "http";
          if (proxyRef && proxyRef.name !== linked.name) mismatch("target proxy", proxyRef.name, linked.name);
          proxyRef = linked;
        }
      }
    }
    if (proxyRef) {
      const ref = proxyRef;
      const kind = proxyKind;
      const proxy = await hop(kind === "https" ? "target https proxy" : "target http proxy", where(ref), async () => {
        if (kind === "https") {
          return ref.region
            ? (await api.regionTargetHttpsProxies.get({ project, region: ref.region, targetHttpsProxy: ref.name })).data
            : (await api.targetHttpsProxies.get({ project, targetHttpsProxy: ref.name })).data;
        }
        return ref.region
          ? (await api.regionTargetHttpProxies.get({ project, region: ref.region, targetHttpProxy: ref.name })).data
          : (await api.targetHttpProxies.get({ project, targetHttpProxy: ref.name })).data;
      });
      if (proxy) {
        frontend.targetProxy = { name: proxy.name ?? ref.name, kind, urlMap: proxy.urlMap ? lastSegment(proxy.urlMap) : "", ...(ref.region ? { region: ref.region } : {}) };
        frontend.urlMapLink = proxy.urlMap ?? undefined;
      }
    }
    return frontend;
  };
  const [http, https] = await Promise.all([
    hasHttp ? readFrontend(names.forwardingRule, names.targetProxy, "http") : Promise.resolve<Frontend>({}),
    hasHttps ? readFrontend(names.httpsForwardingRule, names.httpsTargetProxy, "https") : Promise.resolve<Frontend>({}),
  ]);

  const readUrlMap = async (ref: ResourceRef) =>
    hop("url map", where(ref), async () =>
      ref.region ? (await api.regionUrlMaps.get({ project, region: ref.region, urlMap: ref.name })).data : (await api.urlMaps.get({ project, urlMap: ref.name })).data,
    );
  const isRedirect = (f: Frontend) => Boolean(names.redirectUrlMap && f.urlMapLink && lastSegment(f.urlMapLink) === names.redirectUrlMap);
  // The frontend that serves: HTTP unless it only redirects (or is absent), then HTTPS.
  const serving = hasHttp && !isRedirect(http) && (http.forwardingRule || http.targetProxy) ? http : hasHttps ? https : http;
  const redirecting = serving === http ? (isRedirect(https) ? https : undefined) : isRedirect(http) ? http : undefined;
  model.forwardingRule = serving.forwardingRule;
  model.targetProxy = serving.targetProxy;

  const backendRefs = new Map<string, ResourceRef>();
  for (const name of Object.keys(names.backends ?? {})) backendRefs.set(name, refOf(name, region));
  let urlMapRef = names.urlMap ? refOf(names.urlMap, region) : undefined;
  if (serving.urlMapLink) {
    const linked = refOf(serving.urlMapLink, region);
    if (urlMapRef && urlMapRef.name !== linked.name) mismatch("URL map", urlMapRef.name, linked.name);
    urlMapRef = linked;
  }
  const [urlMap, redirectMap] = await Promise.all([
    urlMapRef ? readUrlMap(urlMapRef) : Promise.resolve(undefined),
    redirecting?.urlMapLink ? readUrlMap(refOf(redirecting.urlMapLink, region)) : Promise.resolve(undefined),
  ]);
  if (urlMap && urlMapRef) {
    model.urlMap = toUrlMapModel(urlMap, urlMapRef);
    for (const link of backendLinksOf(urlMap)) backendRefs.set(lastSegment(link), refOf(link, region));
  }
  if (redirecting) {
    model.redirect = { forwardingRule: redirecting.forwardingRule, targetProxy: redirecting.targetProxy };
    if (redirectMap && redirecting.urlMapLink) model.redirect.urlMap = toUrlMapModel(redirectMap, refOf(redirecting.urlMapLink, region));
  }

  // ---- backend services, each with the health of every backend group and its health checks
  const healthCheckLinks = new Set<string>();
  const services = await Promise.all(
    [...backendRefs.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(async (ref) => {
        const bs = await hop("backend service", where(ref), async () =>
          ref.region
            ? (await api.regionBackendServices.get({ project, region: ref.region, backendService: ref.name })).data
            : (await api.backendServices.get({ project, backendService: ref.name })).data,
        );
        if (!bs) return undefined;
        const kubernetesService = serviceOfDescription(bs.description);
        const service: BackendServiceModel = {
          name: bs.name ?? ref.name,
          protocol: bs.protocol ?? undefined,
          portName: bs.portName ?? undefined,
          port: bs.port ?? undefined,
          healthChecks: (bs.healthChecks ?? []).map(lastSegment),
          ...(ref.region ? { region: ref.region } : {}),
          ...(kubernetesService ? { kubernetesService } : {}),
          backends: (bs.backends ?? [])
            .filter((b): b is compute_v1.Schema$Backend & { group: string } => typeof b.group === "string")
            .map((b) => ({
              group: lastSegment(b.group),
              kind: b.group.includes("/networkEndpointGroups/") ? ("networkEndpointGroup" as const) : ("instanceGroup" as const),
              zone: zoneOfLink(b.group),
            })),
          health: [],
        };
        for (const link of bs.healthChecks ?? []) healthCheckLinks.add(link);
        const groupLinks = (bs.backends ?? []).map((b) => b.group).filter((g): g is string => typeof g === "string");
        const healthLists = await Promise.all(
          groupLinks.map((group) =>
            hop("backend health", `${ref.name} / ${zoneOfLink(group) ?? ""}/${lastSegment(group)}`, async () =>
              ref.region
                ? (await api.regionBackendServices.getHealth({ project, region: ref.region, backendService: ref.name, requestBody: { group } })).data
                : (await api.backendServices.getHealth({ project, backendService: ref.name, requestBody: { group } })).data,
            ).then((health): BackendHealthModel[] =>
              (health?.healthStatus ?? []).map((h) => ({
                group: lastSegment(group),
                ...(group.includes("/networkEndpointGroups/") ? { groupKind: "networkEndpointGroup" as const } : {}),
                ...(zoneOfLink(group) ? { zone: zoneOfLink(group) } : {}),
                instance: h.instance ? lastSegment(h.instance) : "",
                ipAddress: h.ipAddress ?? undefined,
                port: h.port ?? undefined,
                state: healthState(h.healthState),
              })),
            ),
          ),
        );
        service.health = healthLists.flat();
        return { service, groupLinks };
      }),
  );
  const groupLinks = new Map<string, string>();
  const negLinks = new Map<string, string>();
  for (const entry of services) {
    if (!entry) continue;
    model.backendServices.push(entry.service);
    for (const link of entry.groupLinks) if (link.includes("/networkEndpointGroups/")) negLinks.set(link.replace(/^.*?\/projects\//, "projects/"), link);
    // zone + name is the group's identity: a regional cluster has one k8s-ig--<uid> per zone, same name
    for (const link of entry.groupLinks) if (link.includes("/instanceGroups/")) groupLinks.set(`${zoneOfLink(link)}/${lastSegment(link)}`, link);
  }

  // ---- health check resources (global, regional, or a legacy httpHealthCheck)
  const checks = await Promise.all(
    [...healthCheckLinks].sort().map(async (link) => {
      const ref = refOf(link, region);
      const hc = await hop("health check", where(ref), async () => {
        if (link.includes("/httpHealthChecks/")) return (await api.httpHealthChecks.get({ project, httpHealthCheck: ref.name })).data;
        return ref.region
          ? (await api.regionHealthChecks.get({ project, region: ref.region, healthCheck: ref.name })).data
          : (await api.healthChecks.get({ project, healthCheck: ref.name })).data;
      });
      return hc ? toHealthCheckModel(hc, ref.name) : undefined;
    }),
  );
  model.healthChecks = checks.filter((c): c is HealthCheckModel => c !== undefined);

  // ---- network endpoint groups (container-native path): each NEG, its endpoints with health
  const instanceLinks = new Set<string>();
  if (negLinks.size > 0) {
    model.networkEndpointGroups = await collectNetworkEndpointGroups(api, project, [...negLinks.values()].sort(), hop);
    // the endpoints' VMs are the nodes the VPC routes p-ip to: their tags decide the firewall
    for (const neg of model.networkEndpointGroups) {
      for (const e of neg.endpoints ?? []) if (e.instance && neg.zone) instanceLinks.add(`https://www.googleapis.com/compute/v1/projects/${project}/zones/${neg.zone}/instances/${e.instance}`);
    }
  }

  // ---- instance groups (zonal, unmanaged k8s-ig--<uid>): named ports and members
  const groups = await Promise.all(
    [...groupLinks.values()].sort().map(async (link) => {
      const name = lastSegment(link);
      const zone = zoneOfLink(link) ?? "";
      const ig = await hop("instance group", `${zone}/${name}`, async () => (await api.instanceGroups.get({ project, zone, instanceGroup: name })).data);
      const members = await hop("instance group members", `${zone}/${name}`, () =>
        allPages((pageToken) =>
          api.instanceGroups.listInstances({ project, zone, instanceGroup: name, pageToken, requestBody: { instanceState: "ALL" } }).then((r) => r.data),
        ),
      );
      if (!ig && !members) return undefined;
      const group: InstanceGroupModel = {
        name,
        zone,
        namedPorts: (ig?.namedPorts ?? []).map((p) => ({ name: p.name ?? "", port: p.port ?? 0 })),
        instances: (members ?? []).map((m) => (m.instance ? lastSegment(m.instance) : "")).filter((n) => n !== ""),
      };
      for (const m of members ?? []) if (m.instance) instanceLinks.add(m.instance);
      return group;
    }),
  );
  model.instanceGroups = groups.filter((g): g is InstanceGroupModel => g !== undefined);

  // ---- instances: IPs, network tags, service accounts and network (what firewall rules target)
  const instances = await Promise.all(
    [...instanceLinks].sort().map(async (link) => {
      const name = lastSegment(link);
      const zone = zoneOfLink(link) ?? "";
      const vm = await hop("instance", `${zone}/${name}`, async () => (await api.instances.get({ project, zone, instance: name })).data);
      if (!vm) return undefined;
      const nic = vm.networkInterfaces?.[0];
      const instance: InstanceModel = {
        name: vm.name ?? name,
        zone,
        internalIp: nic?.networkIP ?? undefined,
        externalIp: nic?.accessConfigs?.find((a) => a.natIP)?.natIP ?? undefined,
        networkTags: vm.tags?.items ?? [],
        ...(nic?.network ? { network: lastSegment(nic.network) } : {}),
        ...(vm.serviceAccounts ? { serviceAccounts: vm.serviceAccounts.map((s) => s.email ?? "").filter((e) => e !== "") } : {}),
      };
      return instance;
    }),
  );
  model.instances = instances.filter((i): i is InstanceModel => i !== undefined);
  const networks = [...new Set(model.instances.map((i) => i.network).filter((n): n is string => n !== undefined))];
  if (networks.length === 1) model.network = networks[0];
  else if (opts.network) model.network = opts.network;

  // ---- regional classes: the proxy-only subnets the regional proxies send from (ingress-gce
  // pkg/loadbalancers/features/l7ilb.go picks the ACTIVE one of the cluster's network)
  if (region) {
    const subnets = await hop("proxy-only subnets", `regions/${region}`, () =>
      allPages((pageToken) => api.subnetworks.list({ project, region, pageToken }).then((r) => r.data)),
    );
    if (subnets) {
      model.proxyOnlySubnets = subnets
        .filter((n) => n.purpose === "REGIONAL_MANAGED_PROXY" || n.purpose === "INTERNAL_HTTPS_LOAD_BALANCER")
        .map((n) => ({ name: n.name ?? "", ...(n.network ? { network: lastSegment(n.network) } : {}), ipCidrRange: n.ipCidrRange ?? "", purpose: n.purpose!, ...(n.role ? { role: n.role } : {}) }));
    }
  }

  // ---- firewall rules: every INGRESS rule (the VPC evaluates them together, deny included)
  const firewalls = await hop("firewall rules", "INGRESS", () =>
    allPages((pageToken) => api.firewalls.list({ project, filter: 'direction eq "INGRESS"', pageToken }).then((r) => r.data)),
  );
  if (firewalls) {
    const all = firewalls.map(toFirewallModel).sort((a, b) => a.name.localeCompare(b.name));
    // rules naming the health-check ranges, in any network: "a rule in another network" is told from these
    model.healthCheckFirewalls = all.filter((f) => f.sourceRanges.some((range) => healthCheckSourceRanges.some((gfe) => cidrContains(range, gfe) || cidrContains(gfe, range))));
    if (model.network) model.firewalls = all.filter((f) => f.network === model.network);
  }

  return { value: model, problems };
}

/**
 * Reads each network endpoint group a backend service names: networkEndpointGroups.get (zonal),
 * regionNetworkEndpointGroups.get / globalNetworkEndpointGroups.get (serverless, internet, ...),
 * and, for zonal NEGs, every endpoint with its health (networkEndpointGroups.listNetworkEndpoints,
 * a POST that only reads, healthStatus SHOW; Compute REST reference). A NEG that cannot be read is
 * a Problem and left out; endpoints that cannot be listed stay undefined (unknown, not empty).
 */
export async function collectNetworkEndpointGroups(api: compute_v1.Compute, project: string, links: string[], hop: HopRunner): Promise<NetworkEndpointGroupModel[]> {
  const out = await Promise.all(
    links.map(async (link): Promise<NetworkEndpointGroupModel | undefined> => {
      const name = lastSegment(link);
      const zone = zoneOfLink(link);
      const region = /\/regions\/([^/]+)\//.exec(link)?.[1];
      const where = zone ? `${zone}/${name}` : region ? `regions/${region}/${name}` : `global/${name}`;
      const neg = await hop("network endpoint group", where, async () => {
        if (zone) return (await api.networkEndpointGroups.get({ project, zone, networkEndpointGroup: name })).data;
        if (region) return (await api.regionNetworkEndpointGroups.get({ project, region, networkEndpointGroup: name })).data;
        return (await api.globalNetworkEndpointGroups.get({ project, networkEndpointGroup: name })).data;
      });
      if (!neg) return undefined;
      const model: NetworkEndpointGroupModel = {
        name: neg.name ?? name,
        ...(zone ? { zone } : {}),
        ...(region ? { region } : {}),
        networkEndpointType: neg.networkEndpointType ?? "UNKNOWN",
        ...(neg.defaultPort != null ? { defaultPort: neg.defaultPort } : {}),
        ...(neg.network ? { network: lastSegment(neg.network) } : {}),
        ...(neg.subnetwork ? { subnetwork: lastSegment(neg.subnetwork) } : {}),
        ...(neg.size != null ? { size: neg.size } : {}),
      };
      const service = negDescriptionService(neg.description);
      if (service) model.kubernetesService = service;
      if (!zone) return model; // serverless / internet NEGs: no VM endpoints to judge
      const items = await hop("network endpoints", where, () =>
        allPages((pageToken) =>
          api.networkEndpointGroups
            .listNetworkEndpoints({ project, zone, networkEndpointGroup: name, pageToken, requestBody: { healthStatus: "SHOW" } })
            .then((r) => r.data),
        ),
      );
      if (items) model.endpoints = items.map(toNetworkEndpointModel);
      return model;
    }),
  );
  return out.filter((n): n is NetworkEndpointGroupModel => n !== undefined);
}

/** compute#networkEndpointWithHealthStatus as a NetworkEndpointModel. */
export function toNetworkEndpointModel(item: compute_v1.Schema$NetworkEndpointWithHealthStatus): NetworkEndpointModel {
  const e = item.networkEndpoint ?? {};
  return {
    ipAddress: e.ipAddress ?? "",
    ...(e.port != null ? { port: e.port } : {}),
    ...(e.instance ? { instance: lastSegment(e.instance) } : {}),
    ...(item.healths
      ? {
          healths: item.healths.map((h) => ({
            ...(h.backendService?.backendService ? { backendService: lastSegment(h.backendService.backendService) } : {}),
            ...(h.healthCheck?.healthCheck ? { healthCheck: lastSegment(h.healthCheck.healthCheck) } : {}),
            state: healthState(h.healthState),
          })),
        }
      : {}),
  };
}

// ---------------------------------------------------------------- host keys

const hostKeyTypes = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/**
 * The SSH host public keys each VM published in its guest attributes (namespace "hostkeys"; the
 * guest agent writes them when metadata enable-guest-attributes=TRUE), as OpenSSH
 * "type base64" lines. An instance whose keys cannot be read maps to [] (SSH then refuses it),
 * and the reason goes to opts.problems when given.
 */
export async function fetchHostKeys(
  project: string,
  instances: { name: string; zone: string }[],
  opts: GcpOptions,
): Promise<Map<string, string[]>> {
  const keys = new Map<string, string[]>();
  const report = (name: string, problem: Problem, detail: string) => {
    keys.set(name, []);
    opts.problems?.push(problem);
    opts.progress.hop("host keys", "fail", `${name}: ${detail}`);
  };
  let api: compute_v1.Compute;
  try {
    api = await computeClient(opts);
  } catch (error) {
    for (const { name } of instances) {
      report(name, { source: "gcp", subject: name, message: `host keys: ${errorText(error)}`, hint: "run `gcloud auth application-default login` and re-run" }, "no credentials");
    }
    return keys;
  }
  await Promise.all(
    instances.map(async ({ name, zone }) => {
      opts.progress.hop("host keys", "start", name);
      try {
        const { data } = await api.instances.getGuestAttributes({ project, zone, instance: name, queryPath: "hostkeys/" });
        const lines = (data.queryValue?.items ?? [])
          .filter((item) => item.namespace === "hostkeys" && item.key && hostKeyTypes.test(item.key) && item.value)
          .map((item) => `${item.key} ${(item.value ?? "").trim()}`);
        keys.set(name, lines);
        if (lines.length === 0) {
          report(name, { source: "gcp", subject: name, message: `instance ${name} published no SSH host keys in its guest attributes`, hint: hostKeyHint(project, zone, name) }, "no keys");
        } else {
          opts.progress.hop("host keys", "ok", `${name}: ${lines.length} key(s)`);
        }
      } catch (error) {
        const problem = gcpProblem(error, project, `host keys of ${name}`, name);
        if (errorStatus(error) === 404) problem.hint = hostKeyHint(project, zone, name);
        report(name, problem, errorText(error));
      }
    }),
  );
  return keys;
}

function hostKeyHint(project: string, zone: string, name: string): string {
  return (
    "the node must carry metadata enable-guest-attributes=TRUE and run a guest agent that publishes the keys at boot " +
    "(the program's Ubuntu node image does; Container-Optimized OS may not); check with " +
    `gcloud compute instances get-guest-attributes ${name} --zone ${zone} --query-path=hostkeys/ --project ${project}`
  );
}
