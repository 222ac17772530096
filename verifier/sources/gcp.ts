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
  HealthState,
  InstanceGroupModel,
  InstanceModel,
  LoadBalancerModel,
  Problem,
} from "../model";
import { hopRunner } from "./hop";
import type { LoadBalancerResult, Progress } from "./types";

export interface GcpOptions {
  /** Compute API root, e.g. a local stand-in "http://127.0.0.1:40123/"; default Google's */
  rootUrl?: string;
  /** OAuth2 access token; default from Application Default Credentials */
  accessToken?: string;
  progress: Progress;
  /** bounded retry with exponential backoff on 429 / 5xx / no answer (default 4 retries: 0.5, 0.5, 1.5, 3.5 s) */
  retry?: RetryPolicy;
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

/** Names read from the Ingress annotations; absent ones stay undefined. */
interface AnnotatedNames {
  forwardingRule?: string;
  targetProxy?: string;
  targetProxyKind?: "http" | "https";
  urlMap?: string;
  /** backend service name -> health as the controller last saw it */
  backends?: Record<string, string>;
}

function readAnnotations(annotations: Record<string, string>, problems: Problem[]): AnnotatedNames {
  const names: AnnotatedNames = {
    forwardingRule: annotations[lbAnnotationKeys.forwardingRule] ?? annotations[lbAnnotationKeys.httpsForwardingRule],
    urlMap: annotations[lbAnnotationKeys.urlMap],
  };
  if (annotations[lbAnnotationKeys.targetProxy]) {
    names.targetProxy = annotations[lbAnnotationKeys.targetProxy];
    names.targetProxyKind = "http";
  } else if (annotations[lbAnnotationKeys.httpsTargetProxy]) {
    names.targetProxy = annotations[lbAnnotationKeys.httpsTargetProxy];
    names.targetProxyKind = "https";
  }
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
  "the load balancer is not provisioned yet (the GKE ingress controller takes a few minutes after pulumi up); wait and re-run";

/**
 * Follows forwarding rule -> target proxy -> URL map -> backend services (+ getHealth) ->
 * instance groups (named ports, members) -> instances, and lists the firewall rules that let the
 * Google front ends in. Never throws: every failure is a Problem and the other hops still run.
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

  const missing: string[] = [
    names.forwardingRule ? undefined : lbAnnotationKeys.forwardingRule,
    names.targetProxy ? undefined : lbAnnotationKeys.targetProxy,
    names.urlMap ? undefined : lbAnnotationKeys.urlMap,
    annotations[lbAnnotationKeys.backends] !== undefined ? undefined : lbAnnotationKeys.backends,
  ].filter((k) => k !== undefined);
  if (missing.length === 4) {
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
  const mismatch = (what: string, annotated: string, linked: string) =>
    problems.push({
      source: "gcp",
      subject: annotated,
      message: `the Ingress annotation names ${what} ${annotated} but the load balancer links ${linked}`,
      hint: "the controller is probably replacing the load balancer; wait for it to reconcile and re-run",
    });

  // forwarding rule (global, external HTTP(S) LB)
  let linkedProxy: string | undefined;
  if (names.forwardingRule) {
    const fr = await hop("forwarding rule", names.forwardingRule, async () =>
      (await api.globalForwardingRules.get({ project, forwardingRule: names.forwardingRule })).data,
    );
    if (fr) {
      model.forwardingRule = {
        name: fr.name ?? names.forwardingRule,
        ipAddress: fr.IPAddress ?? "",
        ipProtocol: fr.IPProtocol ?? "",
        portRange: fr.portRange ?? undefined,
        target: fr.target ?? "",
        loadBalancingScheme: fr.loadBalancingScheme ?? undefined,
        global: !fr.region,
      };
      if (fr.target) linkedProxy = fr.target;
    }
  }

  // target proxy: the annotation names it; the forwarding rule's link says which kind it is
  let proxyName = names.targetProxy;
  let proxyKind = names.targetProxyKind;
  if (linkedProxy) {
    const linkedName = lastSegment(linkedProxy);
    const linkedKind = linkedProxy.includes("/targetHttpsProxies/") ? "https" : "http";
    if (proxyName && proxyName !== linkedName) mismatch("target proxy", proxyName, linkedName);
    proxyName ??= linkedName;
    proxyKind = linkedKind;
  }
  let linkedUrlMap: string | undefined;
  if (proxyName) {
    const name = proxyName;
    const proxy = await hop("target proxy", name, async () =>
      proxyKind === "https"
        ? (await api.targetHttpsProxies.get({ project, targetHttpsProxy: name })).data
        : (await api.targetHttpProxies.get({ project, targetHttpProxy: name })).data,
    );
    if (proxy) {
      model.targetProxy = { name: proxy.name ?? name, kind: proxyKind ?? "http", urlMap: proxy.urlMap ? lastSegment(proxy.urlMap) : "" };
      linkedUrlMap = proxy.urlMap ?? undefined;
    }
  }

  // URL map: its default service is the Service's backend (the Ingress's defaultBackend)
  let urlMapName = names.urlMap;
  if (linkedUrlMap) {
    const linkedName = lastSegment(linkedUrlMap);
    if (urlMapName && urlMapName !== linkedName) mismatch("URL map", urlMapName, linkedName);
    urlMapName ??= linkedName;
  }
  const backendNames = new Set<string>(Object.keys(names.backends ?? {}));
  if (urlMapName) {
    const name = urlMapName;
    const urlMap = await hop("url map", name, async () => (await api.urlMaps.get({ project, urlMap: name })).data);
    if (urlMap) {
      model.urlMap = {
        name: urlMap.name ?? name,
        defaultService: urlMap.defaultService ? lastSegment(urlMap.defaultService) : undefined,
        hostRuleCount: urlMap.hostRules?.length ?? 0,
        pathMatcherCount: urlMap.pathMatchers?.length ?? 0,
      };
      const linked = [urlMap.defaultService, ...(urlMap.pathMatchers ?? []).flatMap((m) => [m.defaultService, ...(m.pathRules ?? []).map((r) => r.service)])];
      for (const link of linked) if (link && link.includes("/backendServices/")) backendNames.add(lastSegment(link));
    }
  }

  // backend services, each with the health of every backend group
  const services = await Promise.all(
    [...backendNames].sort().map(async (name) => {
      const bs = await hop("backend service", name, async () => (await api.backendServices.get({ project, backendService: name })).data);
      if (!bs) return undefined;
      const service: BackendServiceModel = {
        name: bs.name ?? name,
        protocol: bs.protocol ?? undefined,
        portName: bs.portName ?? undefined,
        port: bs.port ?? undefined,
        healthChecks: (bs.healthChecks ?? []).map(lastSegment),
        backends: (bs.backends ?? [])
          .filter((b): b is compute_v1.Schema$Backend & { group: string } => typeof b.group === "string")
          .map((b) => ({
            group: lastSegment(b.group),
            kind: b.group.includes("/networkEndpointGroups/") ? ("networkEndpointGroup" as const) : ("instanceGroup" as const),
            zone: zoneOfLink(b.group),
          })),
        health: [],
      };
      const groupLinks = (bs.backends ?? []).map((b) => b.group).filter((g): g is string => typeof g === "string");
      const healthLists = await Promise.all(
        groupLinks.map((group) =>
          hop("backend health", `${name} / ${lastSegment(group)}`, async () =>
            (await api.backendServices.getHealth({ project, backendService: name, requestBody: { group } })).data,
          ).then((health): BackendHealthModel[] =>
            (health?.healthStatus ?? []).map((h) => ({
              group: lastSegment(group),
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
  const groupLinks = new Set<string>();
  for (const entry of services) {
    if (!entry) continue;
    model.backendServices.push(entry.service);
    for (const link of entry.groupLinks) if (link.includes("/instanceGroups/")) groupLinks.add(link);
  }

  // instance groups (zonal, unmanaged k8s-ig--<uid>): named ports and members
  const instanceLinks = new Set<string>();
  const groups = await Promise.all(
    [...groupLinks].sort().map(async (link) => {
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

  // instances: IPs and network tags (the firewall's target)
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
      };
      return instance;
    }),
  );
  model.instances = instances.filter((i): i is InstanceModel => i !== undefined);

  // firewall rules letting the Google front ends / health checkers in
  const firewalls = await hop("firewall rules", "from 130.211.0.0/22, 35.191.0.0/16", () =>
    allPages((pageToken) => api.firewalls.list({ project, filter: 'direction eq "INGRESS"', pageToken }).then((r) => r.data)),
  );
  model.healthCheckFirewalls = (firewalls ?? [])
    .filter((f) => (f.sourceRanges ?? []).some((range) => healthCheckSourceRanges.some((gfe) => cidrContains(range, gfe))))
    .map(
      (f): FirewallRuleModel => ({
        name: f.name ?? "",
        direction: f.direction === "EGRESS" ? "EGRESS" : "INGRESS",
        sourceRanges: f.sourceRanges ?? [],
        targetTags: f.targetTags ?? [],
        allowed: (f.allowed ?? []).map((a) => ({ protocol: a.IPProtocol ?? "", ports: a.ports ?? [] })),
        disabled: f.disabled ?? false,
      }),
    )
    .sort((a, b) => a.name.localeCompare(b.name));

  return { value: model, problems };
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
