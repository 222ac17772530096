// `--nodes`: which of the cluster's nodes are read. All by default; a number reads a deterministic
// sample that always holds the nodes running the Service's pods and one node without any (the
// article's VM-2, which forwards without a pod); names read exactly those nodes. The same cluster
// and the same flag give the same sample on every run: the rest are ordered by a hash of their name.
import { createHash } from "node:crypto";
import type { KubernetesModel, NodeSelection } from "../model";
import type { NodeTarget } from "./types";

/** What --nodes asked for. */
export type NodesFlag = { kind: "all" } | { kind: "count"; count: number } | { kind: "named"; names: string[] };

/** `--nodes` text -> NodesFlag, or an error message saying what is wrong and how to write it. */
export function parseNodesFlag(text: string | undefined): NodesFlag | string {
  if (text === undefined || text === "all") return { kind: "all" };
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    return count >= 1 ? { kind: "count", count } : `--nodes ${text}: give a number >= 1, "all", or node names separated by commas`;
  }
  const names = text.split(",").map((n) => n.trim());
  if (names.some((n) => !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n))) return `--nodes ${text}: give "all", a number, or node names (lower-case letters, digits, "-", ".") separated by commas`;
  return { kind: "named", names: [...new Set(names)] };
}

/** The nodes running the Service's pods (by its selector), from Kubernetes. */
function podNodes(kube: KubernetesModel | undefined): Set<string> {
  const selector = kube?.service?.selector ?? {};
  const pods = (kube?.pods ?? []).filter((p) => Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => p.labels[k] === v));
  return new Set(pods.map((p) => p.nodeName).filter((n): n is string => !!n));
}

const hashOf = (name: string) => createHash("sha256").update(name).digest("hex");

/**
 * The targets --nodes keeps, and the selection the report shows. Names that match no node are
 * reported in `unknown` (the caller makes them a Problem), never silently dropped.
 */
export function selectNodes(targets: NodeTarget[], flag: NodesFlag, kube: KubernetesModel | undefined): { targets: NodeTarget[]; selection: NodeSelection; unknown: string[] } {
  const all = targets.map((t) => t.name);
  if (flag.kind === "all") return { targets, selection: { mode: "all", chosen: all, of: all.length, note: `all ${all.length} nodes` }, unknown: [] };
  if (flag.kind === "named") {
    const known = new Set(all);
    const chosen = targets.filter((t) => flag.names.includes(t.name));
    const unknown = flag.names.filter((n) => !known.has(n));
    return {
      targets: chosen,
      selection: { mode: "named", chosen: chosen.map((t) => t.name), of: all.length, note: `${chosen.length} of ${all.length} nodes, named by --nodes: ${chosen.map((t) => t.name).join(", ") || "none"}` },
      unknown,
    };
  }
  if (flag.count >= targets.length) return { targets, selection: { mode: "all", chosen: all, of: all.length, note: `all ${all.length} nodes (--nodes ${flag.count} is at least their number)` }, unknown: [] };
  const withPods = podNodes(kube);
  const must = targets.filter((t) => withPods.has(t.name));
  const byHash = targets.filter((t) => !withPods.has(t.name)).sort((a, b) => (hashOf(a.name) < hashOf(b.name) ? -1 : 1));
  // the pods' nodes and one without a pod, even when --nodes is smaller than that
  const chosen = [...must, ...byHash.slice(0, Math.max(1, flag.count - must.length))];
  const names = new Set(chosen.map((t) => t.name));
  const kept = targets.filter((t) => names.has(t.name));
  const extra = chosen.length > flag.count ? ` (more than ${flag.count}: every node with a pod of the Service, and one without, are always read)` : "";
  return {
    targets: kept,
    selection: {
      mode: "sample",
      chosen: kept.map((t) => t.name),
      of: all.length,
      note: `a sample of ${kept.length} of ${all.length} nodes (--nodes ${flag.count})${extra}: the ${must.length} with the Service's pods, the rest chosen by a hash of their names, the same on every run; the other ${all.length - kept.length} were not read and the claims "on every node" speak of these ${kept.length} only`,
    },
    unknown: [],
  };
}
