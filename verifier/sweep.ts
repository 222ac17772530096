// After `pulumi destroy`: finds what the GKE ingress controller left behind in the project. The
// controller, not Pulumi, creates the load balancer; if the cluster goes before the controller has
// cleaned up (finalizer skipped, destroy interrupted), these resources stay and keep costing.
//
// Which names belong to a cluster (ingress-gce pkg/utils/namer):
//   v1:  k8s-be-<port>--<uid>, k8s-ig--<uid>, k8s-{fw,fws,tp,tps,um}-<lb>--<uid>
//        (<uid> = kube-system/ingress-uid "uid"; cut to fit 63 chars, sometimes with a trailing "0")
//   the L7 firewall rule: k8s-fw-l7--<provider-uid>, named after the same ConfigMap's "provider-uid"
//        (cmd/glbc/app/namer.go getFirewallName: defaults to the uid, but may differ from it)
//   NEG: k8s1-<uid first 8>-<ns>-<svc>-<port>-<hash8> (NEGs, their backend services, health checks)
//   v2:  k8s2-{fr,fs,tp,ts,um,rm,cr}-<hash8>-<ns>-<ingress>-<hash8>, where <hash8> is a hash of the
//        kube-system namespace UID, not the ingress uid: these are tied to the cluster by following
//        their links (forwarding rule -> proxy -> URL map -> a backend service carrying the uid).
import type { compute_v1 } from "@googleapis/compute";
import type { Problem } from "./model";
import { allPages, computeClient, errorStatus, gcpProblem, lastSegment, zoneOfLink, type RetryPolicy } from "./sources/gcp";
import type { Progress } from "./sources/types";

export type LeftoverKind =
  | "forwardingRule"
  | "targetHttpsProxy"
  | "targetHttpProxy"
  | "urlMap"
  | "backendService"
  | "healthCheck"
  | "instanceGroup"
  | "networkEndpointGroup"
  | "firewall";

/** Deletion order: each kind is referenced only by kinds before it. */
export const deletionOrder: readonly LeftoverKind[] = [
  "forwardingRule",
  "targetHttpsProxy",
  "targetHttpProxy",
  "urlMap",
  "backendService",
  "healthCheck",
  "instanceGroup",
  "networkEndpointGroup",
  "firewall",
];

/** How a resource was tied to the cluster. */
export type LeftoverMatch =
  /** the v1 "--<uid>" suffix, the NEG "k8s1-<uid8>-" prefix, or the v2 hash given as --uid */
  | "uid"
  /** a v2 frontend whose links lead to a resource carrying the uid, or sharing such a frontend's hash */
  | "linked"
  /** the L7 firewall rule named after the given --provider-uid */
  | "provider-uid"
  /** no --uid given: named like the GKE ingress controller's resources, owner unknown */
  | "naming-scheme";

export interface Leftover {
  kind: LeftoverKind;
  name: string;
  /** zonal resources only */
  zone?: string;
  match: LeftoverMatch;
  /** true when no --uid tied it to this cluster */
  possiblyOtherCluster: boolean;
}

export interface SweepResult {
  project: string;
  uid?: string;
  /** kube-system/ingress-uid "provider-uid", when given */
  providerUid?: string;
  leftovers: Leftover[];
  /** resources named like the controller's but belonging to other clusters (only with --uid) */
  otherClusters: number;
  /** every list call answered */
  complete: boolean;
  problems: Problem[];
}

/** One listed resource, with the links that tie frontends to backends. */
export interface ListedResource {
  kind: LeftoverKind;
  name: string;
  zone?: string;
  /** names of the resources it points at (proxy -> URL map, URL map -> backend services, ...) */
  links: string[];
}

/** Names the GKE ingress controller gives (any cluster). */
const ingressNaming = /^(k8s-(be-\d+|ig|fw-l7|fw|fws|tp|tps|um|rm|ssl)-|k8s1-[0-9a-f]{8}-|k8s2-(fr|fs|tp|ts|um|rm|cr)-[0-9a-z]{8}-)/;
const v2Frontend = /^k8s2-(fr|fs|tp|ts|um|rm|cr)-([0-9a-z]{8})-/;
const gceNameLimit = 63;

/** Plain code-point order, the same on every machine (localeCompare ignores "-"). */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function namedLikeIngressController(name: string): boolean {
  return ingressNaming.test(name);
}

/** True when the name carries this cluster's uid (v1 suffix, NEG prefix, or the v2 hash). */
export function carriesUid(name: string, uid: string): boolean {
  if (!namedLikeIngressController(name)) return false;
  if (name.startsWith(`k8s1-${uid.slice(0, 8)}-`) && uid.length >= 8) return true;
  const v2 = v2Frontend.exec(name);
  if (v2) return v2[2] === uid;
  const cut = name.lastIndexOf("--");
  if (cut < 0) return false;
  const suffix = name.slice(cut + 2);
  if (suffix === uid) return true;
  // names cut at 62 chars end in "0" (the namer's filler) and carry only a prefix of the uid
  if (name.length >= gceNameLimit - 1) {
    const trimmed = suffix.endsWith("0") ? suffix.slice(0, -1) : suffix;
    return trimmed.length > 4 && (uid.startsWith(suffix) || uid.startsWith(trimmed));
  }
  return false;
}

/**
 * Pure: which listed resources are leftovers of the cluster with `uid` (or, without a uid, every
 * resource named like the controller's, flagged as possibly another cluster's).
 */
export function classifyLeftovers(resources: ListedResource[], uid: string | undefined, providerUid?: string): { leftovers: Leftover[]; otherClusters: number } {
  const named = resources.filter((r) => namedLikeIngressController(r.name));
  const sorted = (items: Leftover[]) =>
    items.sort((a, b) => deletionOrder.indexOf(a.kind) - deletionOrder.indexOf(b.kind) || byCodePoint(a.zone ?? "", b.zone ?? "") || byCodePoint(a.name, b.name));
  if (!uid) {
    return {
      leftovers: sorted(named.map((r) => ({ kind: r.kind, name: r.name, zone: r.zone, match: "naming-scheme" as const, possiblyOtherCluster: true }))),
      otherClusters: 0,
    };
  }
  const matched = new Map<ListedResource, LeftoverMatch>();
  for (const r of named) if (carriesUid(r.name, uid)) matched.set(r, "uid");
  for (const r of named) if (providerUid && !matched.has(r) && isL7Firewall(r) && carriesUid(r.name, providerUid)) matched.set(r, "provider-uid");
  // follow links backwards until nothing changes: URL maps pointing at our backend services,
  // proxies pointing at those URL maps, forwarding rules pointing at those proxies
  const matchedNames = () => new Set([...matched.keys()].map((r) => `${r.kind}:${r.name}`));
  const linkKinds: Partial<Record<LeftoverKind, LeftoverKind[]>> = {
    urlMap: ["backendService"],
    targetHttpProxy: ["urlMap"],
    targetHttpsProxy: ["urlMap"],
    forwardingRule: ["targetHttpProxy", "targetHttpsProxy"],
  };
  for (let changed = true; changed; ) {
    changed = false;
    const ours = matchedNames();
    for (const r of named) {
      if (matched.has(r)) continue;
      const targets = linkKinds[r.kind] ?? [];
      if (r.links.some((link) => targets.some((kind) => ours.has(`${kind}:${link}`)))) {
        matched.set(r, "linked");
        changed = true;
      }
    }
  }
  // other v2 names sharing a linked frontend's cluster hash (e.g. the redirect URL map, certificates)
  const hashes = new Set([...matched.keys()].map((r) => v2Frontend.exec(r.name)?.[2]).filter((h): h is string => h !== undefined));
  for (const r of named) {
    const hash = v2Frontend.exec(r.name)?.[2];
    if (!matched.has(r) && hash && hashes.has(hash)) matched.set(r, "linked");
  }
  const leftovers: Leftover[] = [...matched].map(([r, match]) => ({ kind: r.kind, name: r.name, zone: r.zone, match, possiblyOtherCluster: false }));
  // Without --provider-uid an L7 firewall rule not named after the uid cannot be placed: its name
  // follows provider-uid, which may differ. Listed as unknown, never called another cluster's.
  const unplaced = providerUid ? [] : named.filter((r) => !matched.has(r) && isL7Firewall(r));
  for (const r of unplaced) leftovers.push({ kind: r.kind, name: r.name, zone: r.zone, match: "naming-scheme", possiblyOtherCluster: true });
  return { leftovers: sorted(leftovers), otherClusters: named.length - matched.size - unplaced.length };
}

function isL7Firewall(r: ListedResource): boolean {
  return r.kind === "firewall" && r.name.startsWith("k8s-fw-l7--");
}

/** gcloud delete commands in dependency order (forwarding rule first, firewall last). */
export function deleteCommands(project: string, leftovers: Leftover[]): string[] {
  const where = (l: Leftover) => (l.zone ? `--zone ${l.zone}` : "--global");
  const command: Record<LeftoverKind, (l: Leftover) => string> = {
    forwardingRule: (l) => `gcloud compute forwarding-rules delete ${l.name} ${where(l)}`,
    targetHttpsProxy: (l) => `gcloud compute target-https-proxies delete ${l.name} ${where(l)}`,
    targetHttpProxy: (l) => `gcloud compute target-http-proxies delete ${l.name} ${where(l)}`,
    urlMap: (l) => `gcloud compute url-maps delete ${l.name} ${where(l)}`,
    backendService: (l) => `gcloud compute backend-services delete ${l.name} ${where(l)}`,
    healthCheck: (l) => `gcloud compute health-checks delete ${l.name} ${where(l)}`,
    instanceGroup: (l) => `gcloud compute instance-groups unmanaged delete ${l.name} --zone ${l.zone ?? "ZONE"}`,
    networkEndpointGroup: (l) => `gcloud compute network-endpoint-groups delete ${l.name} --zone ${l.zone ?? "ZONE"}`,
    firewall: (l) => `gcloud compute firewall-rules delete ${l.name}`,
  };
  return [...leftovers]
    .sort((a, b) => deletionOrder.indexOf(a.kind) - deletionOrder.indexOf(b.kind))
    .map((l) => `${command[l.kind](l)} --project ${project}`);
}

/** 0 nothing left, 1 leftovers found, 2 could not check (and found none). */
export function sweepExitCode(result: SweepResult): 0 | 1 | 2 {
  if (result.leftovers.length > 0) return 1;
  return result.complete ? 0 : 2;
}

// ---------------------------------------------------------------- listing

export interface SweepOptions {
  /** this cluster's ingress uid (kube-system/ingress-uid), or the 8-char hash of its k8s2- names */
  uid?: string;
  /** the same ConfigMap's "provider-uid", which names the L7 firewall rule */
  providerUid?: string;
  rootUrl?: string;
  accessToken?: string;
  retry?: RetryPolicy;
  progress: Progress;
}

const nameFilter = 'name eq "k8s.*"';

type AggregatedPage<T> = { items?: Record<string, Record<string, T[] | unknown> | undefined> | null; nextPageToken?: string | null };

/** Flattens an aggregated list ({"zones/x": {key: [...]}}) into its items. */
function flattenAggregated<T>(page: AggregatedPage<T>, key: string): { items: T[]; nextPageToken?: string | null } {
  const items: T[] = [];
  for (const scoped of Object.values(page.items ?? {})) {
    const list = scoped?.[key];
    if (Array.isArray(list)) items.push(...(list as T[]));
  }
  return { items, nextPageToken: page.nextPageToken };
}

/** Lists every resource kind the controller creates (names k8s*), in all zones. */
export async function listIngressResources(
  api: compute_v1.Compute,
  project: string,
  progress: Progress,
): Promise<{ resources: ListedResource[]; problems: Problem[] }> {
  const problems: Problem[] = [];
  const filter = nameFilter;
  const lists: { kind: LeftoverKind; label: string; run: () => Promise<ListedResource[]> }[] = [
    {
      kind: "forwardingRule",
      label: "forwarding rules",
      run: async () =>
        (await allPages((pageToken) => api.globalForwardingRules.list({ project, filter, pageToken }).then((r) => r.data))).map((f) => ({
          kind: "forwardingRule",
          name: f.name ?? "",
          links: f.target ? [lastSegment(f.target)] : [],
        })),
    },
    {
      kind: "targetHttpProxy",
      label: "target HTTP proxies",
      run: async () =>
        (await allPages((pageToken) => api.targetHttpProxies.list({ project, filter, pageToken }).then((r) => r.data))).map((p) => ({
          kind: "targetHttpProxy",
          name: p.name ?? "",
          links: p.urlMap ? [lastSegment(p.urlMap)] : [],
        })),
    },
    {
      kind: "targetHttpsProxy",
      label: "target HTTPS proxies",
      run: async () =>
        (await allPages((pageToken) => api.targetHttpsProxies.list({ project, filter, pageToken }).then((r) => r.data))).map((p) => ({
          kind: "targetHttpsProxy",
          name: p.name ?? "",
          links: p.urlMap ? [lastSegment(p.urlMap)] : [],
        })),
    },
    {
      kind: "urlMap",
      label: "URL maps",
      run: async () =>
        (await allPages((pageToken) => api.urlMaps.list({ project, filter, pageToken }).then((r) => r.data))).map((m) => ({
          kind: "urlMap",
          name: m.name ?? "",
          links: [m.defaultService, ...(m.pathMatchers ?? []).flatMap((pm) => [pm.defaultService, ...(pm.pathRules ?? []).map((rule) => rule.service)])]
            .filter((s): s is string => typeof s === "string")
            .map(lastSegment),
        })),
    },
    {
      kind: "backendService",
      label: "backend services",
      run: async () =>
        (await allPages((pageToken) => api.backendServices.list({ project, filter, pageToken }).then((r) => r.data))).map((b) => ({
          kind: "backendService",
          name: b.name ?? "",
          links: [],
        })),
    },
    {
      kind: "healthCheck",
      label: "health checks",
      run: async () =>
        (await allPages((pageToken) => api.healthChecks.list({ project, filter, pageToken }).then((r) => r.data))).map((h) => ({
          kind: "healthCheck",
          name: h.name ?? "",
          links: [],
        })),
    },
    {
      kind: "instanceGroup",
      label: "instance groups (all zones)",
      run: async () =>
        (
          await allPages((pageToken) =>
            api.instanceGroups.aggregatedList({ project, filter, pageToken }).then((r) => flattenAggregated<compute_v1.Schema$InstanceGroup>(r.data as AggregatedPage<compute_v1.Schema$InstanceGroup>, "instanceGroups")),
          )
        ).map((g) => ({ kind: "instanceGroup", name: g.name ?? "", zone: zoneOfLink(g.zone), links: [] })),
    },
    {
      kind: "networkEndpointGroup",
      label: "network endpoint groups (all zones)",
      run: async () =>
        (
          await allPages((pageToken) =>
            api.networkEndpointGroups
              .aggregatedList({ project, filter, pageToken })
              .then((r) => flattenAggregated<compute_v1.Schema$NetworkEndpointGroup>(r.data as AggregatedPage<compute_v1.Schema$NetworkEndpointGroup>, "networkEndpointGroups")),
          )
        ).map((n) => ({ kind: "networkEndpointGroup", name: n.name ?? "", zone: zoneOfLink(n.zone), links: [] })),
    },
    {
      kind: "firewall",
      label: "firewall rules",
      run: async () =>
        (await allPages((pageToken) => api.firewalls.list({ project, filter, pageToken }).then((r) => r.data))).map((f) => ({
          kind: "firewall",
          name: f.name ?? "",
          links: [],
        })),
    },
  ];
  const results = await Promise.all(
    lists.map(async (list) => {
      progress.hop(list.label, "start");
      try {
        const found = await list.run();
        progress.hop(list.label, "ok", `${found.length} named k8s*`);
        return found;
      } catch (error) {
        problems.push(gcpProblem(error, project, `listing ${list.label}`, list.label));
        progress.hop(list.label, "fail", String(errorStatus(error) ?? "no answer"));
        return [];
      }
    }),
  );
  return { resources: results.flat(), problems };
}

/** Lists and classifies the controller's leftovers in `project`. Never throws. */
export async function sweepProject(project: string, opts: SweepOptions): Promise<SweepResult> {
  let api: compute_v1.Compute;
  try {
    api = await computeClient(opts);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { project, uid: opts.uid, providerUid: opts.providerUid, leftovers: [], otherClusters: 0, complete: false, problems: [{ source: "gcp", subject: "credentials", message, hint: "run `gcloud auth application-default login` and re-run" }] };
  }
  const { resources, problems } = await listIngressResources(api, project, opts.progress);
  const { leftovers, otherClusters } = classifyLeftovers(resources, opts.uid, opts.providerUid);
  return { project, uid: opts.uid, providerUid: opts.providerUid, leftovers, otherClusters, complete: problems.length === 0, problems };
}

// ---------------------------------------------------------------- rendering

const kindLabels: Record<LeftoverKind, string> = {
  forwardingRule: "forwarding rule",
  targetHttpsProxy: "target HTTPS proxy",
  targetHttpProxy: "target HTTP proxy",
  urlMap: "URL map",
  backendService: "backend service",
  healthCheck: "health check",
  instanceGroup: "instance group",
  networkEndpointGroup: "network endpoint group",
  firewall: "firewall rule",
};

export function renderSweepText(result: SweepResult): string {
  const lines: string[] = [];
  const scope = result.uid ? `ingress uid ${result.uid}${result.providerUid && result.providerUid !== result.uid ? ` (provider-uid ${result.providerUid})` : ""}` : "any cluster (no --uid given)";
  if (result.leftovers.length === 0) {
    lines.push(
      result.complete
        ? `No GKE ingress leftovers in project ${result.project} for ${scope}.`
        : `Could not check project ${result.project} completely; no leftovers among what could be listed.`,
    );
  } else {
    lines.push(`${result.leftovers.length} GKE ingress leftover(s) in project ${result.project} for ${scope}:`);
    const width = Math.max(...result.leftovers.map((l) => kindLabels[l.kind].length));
    for (const l of result.leftovers) {
      const where = l.zone ? ` (${l.zone})` : "";
      const flag = l.possiblyOtherCluster
        ? result.uid && l.kind === "firewall"
          ? "  [owner unknown: named after a provider-uid; see below]"
          : "  [possibly another cluster's]"
        : l.match === "linked"
          ? "  [linked to this cluster's backends]"
          : l.match === "provider-uid"
            ? "  [named after this cluster's provider-uid]"
            : "";
      lines.push(`  ${kindLabels[l.kind].padEnd(width)}  ${l.name}${where}${flag}`);
    }
    if (result.uid && result.leftovers.some((l) => l.possiblyOtherCluster && l.kind === "firewall")) {
      lines.push(
        "",
        "The controller names its firewall rule k8s-fw-l7--<provider-uid> (the ingress-uid ConfigMap's provider-uid,",
        "which can differ from uid). Pass --provider-uid to tell this cluster's rule from others'; until then, check",
        "that no other cluster in the project uses one listed here before deleting it.",
      );
    }
    if (!result.uid) {
      lines.push("", "Without --uid every resource named like the GKE ingress controller's is listed; another cluster in this", "project may still use some. Pass --uid <kube-system/ingress-uid> to list only this cluster's.");
    }
    lines.push("", "Delete in this order (each resource is used by the ones above it):");
    for (const command of deleteCommands(result.project, result.leftovers)) lines.push(`  ${command}`);
  }
  if (result.uid && result.otherClusters > 0) {
    lines.push("", `${result.otherClusters} other resource(s) named like the controller's belong to other clusters (not listed).`);
  }
  for (const p of result.problems) {
    lines.push("", `problem: ${p.message}`);
    if (p.hint) lines.push(`  fix: ${p.hint}`);
  }
  return lines.join("\n") + "\n";
}

export function renderSweepJson(result: SweepResult): string {
  return JSON.stringify({ ...result, commands: deleteCommands(result.project, result.leftovers), exitCode: sweepExitCode(result) }, null, 2) + "\n";
}
