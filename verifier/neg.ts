// What GKE's NEG controller (ingress-gce pkg/neg) writes, and what its words mean: the Service
// annotations, the pod readiness gate and its reasons, the NEG description and the
// ServiceNetworkEndpointGroup status. Sources parse with these; checks and diagnosis read the
// meanings from here, so the knowledge lives in one place. Pure: no network.
import type { NegStatusModel, NetworkEndpointGroupModel, SvcNegModel } from "./model";

/** The Service annotation asking for NEGs: '{"ingress": true}' (GKE docs, container-native load balancing). */
export const NEG_ANNOTATION = "cloud.google.com/neg";
/** The Service annotation the controller writes back: which NEG per s-port, in which zones (ingress-gce NegStatus). */
export const NEG_STATUS_ANNOTATION = "cloud.google.com/neg-status";
/** The pod readiness gate the controller injects and sets (ingress-gce pkg/neg/types/shared NegReadinessGate). */
export const NEG_READINESS_GATE = "cloud.google.com/load-balancer-neg-ready";

/**
 * The reasons ingress-gce's readiness reflector gives the gate's condition (pkg/neg/readiness):
 * only LoadBalancerNegReady with a health check behind it is the load balancer's own word.
 */
export const NEG_GATE_REASONS = {
  /** the endpoint turned HEALTHY in every NEG (or the pod belongs to no NEG: see the message) */
  ready: "LoadBalancerNegReady",
  /** not (yet) healthy in the NEG */
  notReady: "LoadBalancerNegNotReady",
  /** True after the controller's timeout, without the LB ever seeing the pod healthy */
  timeout: "LoadBalancerNegTimeout",
  /** True because no backend service health-checks the NEG */
  withoutHealthCheck: "LoadBalancerNegWithoutHealthCheck",
} as const;

/** The NEG type the NEG controller makes for Ingress: p-ip:p-port endpoints in a zonal NEG. */
export const CONTAINER_NEG_TYPE = "GCE_VM_IP_PORT";

/** The svcneg CRD (kubectl get svcneg): networking.gke.io/v1beta1 servicenetworkendpointgroups. */
export const SVCNEG = { group: "networking.gke.io", version: "v1beta1", plural: "servicenetworkendpointgroups", kind: "ServiceNetworkEndpointGroup" } as const;

/** True when the Service's cloud.google.com/neg annotation asks for NEGs for Ingress. */
export function negRequested(value: string | undefined): boolean {
  if (!value) return false;
  try {
    return (JSON.parse(value) as { ingress?: unknown }).ingress === true;
  } catch {
    return false;
  }
}

/**
 * The cloud.google.com/neg-status annotation, {"network_endpoint_groups":{"80":"k8s1-..."},"zones":["us-central1-a"]},
 * as a NegStatusModel; an Error saying what is wrong when it is not that shape.
 */
export function parseNegStatus(text: string): NegStatusModel | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return new Error(`not JSON (${(error as Error).message})`);
  }
  const o = parsed as { network_endpoint_groups?: unknown; zones?: unknown };
  if (!o || typeof o !== "object" || Array.isArray(o)) return new Error("not a JSON object");
  const groups = o.network_endpoint_groups;
  if (groups !== undefined && (typeof groups !== "object" || groups === null || Array.isArray(groups))) return new Error("network_endpoint_groups is not an object of s-port -> NEG name");
  const zones = o.zones;
  if (zones !== undefined && (!Array.isArray(zones) || zones.some((z) => typeof z !== "string"))) return new Error("zones is not a list of zone names");
  return {
    networkEndpointGroups: Object.fromEntries(Object.entries((groups ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    zones: (zones ?? []) as string[],
    raw: text,
  };
}

/**
 * The Service a NEG was made for, from the description the NEG controller writes
 * ({"cluster-uid":"...","namespace":"default","service-name":"hello","port":"80"}); undefined otherwise.
 */
export function negDescriptionService(description: string | null | undefined): NetworkEndpointGroupModel["kubernetesService"] {
  if (!description) return undefined;
  try {
    const d = JSON.parse(description) as Record<string, unknown>;
    const namespace = d["namespace"];
    const name = d["service-name"];
    if (typeof namespace !== "string" || typeof name !== "string") return undefined;
    return {
      namespace,
      name,
      ...(typeof d["port"] === "string" ? { port: d["port"] } : {}),
      ...(typeof d["cluster-uid"] === "string" ? { clusterUid: d["cluster-uid"] } : {}),
    };
  } catch {
    return undefined;
  }
}

/** RFC 3339 of a time the API gave as a string or a Date; undefined when it is not a time. */
export function isoTime(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const date = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** A ServiceNetworkEndpointGroup object (as the API or `kubectl get svcneg -o json` gives it) as a SvcNegModel. */
export function toSvcNegModel(object: unknown): SvcNegModel | undefined {
  const o = object as {
    metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: { kind?: string; name?: string }[] };
    status?: { conditions?: unknown[]; networkEndpointGroups?: unknown[]; lastSyncTime?: string };
  };
  if (!o?.metadata?.name) return undefined;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const owner = o.metadata.ownerReferences?.find((r) => r.kind === "Service")?.name;
  return {
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name,
    ...((owner ?? o.metadata.labels?.["networking.gke.io/service-name"]) ? { serviceName: owner ?? o.metadata.labels!["networking.gke.io/service-name"] } : {}),
    conditions: (o.status?.conditions ?? []).map((c) => {
      const x = c as Record<string, unknown>;
      return {
        type: str(x.type) ?? "",
        status: str(x.status) ?? "Unknown",
        ...(str(x.reason) ? { reason: str(x.reason) } : {}),
        ...(str(x.message) ? { message: str(x.message) } : {}),
        ...(isoTime(x.lastTransitionTime) ? { lastTransitionTime: isoTime(x.lastTransitionTime) } : {}),
      };
    }),
    networkEndpointGroups: (o.status?.networkEndpointGroups ?? []).map((g) => {
      const x = g as Record<string, unknown>;
      return { ...(str(x.selfLink) ? { selfLink: str(x.selfLink) } : {}), ...(str(x.networkEndpointType) ? { networkEndpointType: str(x.networkEndpointType) } : {}), ...(x.id !== undefined ? { id: String(x.id) } : {}) };
    }),
    ...(isoTime(o.status?.lastSyncTime) ? { lastSyncTime: isoTime(o.status?.lastSyncTime) } : {}),
  };
}
