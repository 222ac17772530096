// Everything the checks derive from the model once: the Service port under study, the node list,
// one trace per node dump, the pods, and why data is missing. Pure: no network, no clock.
import type {
  KubeNodeModel,
  NodeModel,
  PathModel,
  PodModel,
  Problem,
  ServiceModel,
  ServicePortModel,
} from "../model";
import type { RuleRef, TraceResult, TracedEndpoint, TracedService } from "../iptables/types";
import { tracedDump } from "./trace-cache";
import { detectPathMode, type PathMode } from "./path-mode";

export interface NodeView {
  name: string;
  /** the SSH source's view of the node; undefined when it never reported this node */
  node?: NodeModel;
  kube?: KubeNodeModel;
  internalIp?: string;
  /** pods of the Service running here */
  pods: PodModel[];
  trace?: TraceResult;
  /** the Service's entry in this node's trace, when the dump has it */
  traced?: TracedService;
  /** where the node's dump came from, for evidence */
  dumpSource: string;
}

export interface CheckContext {
  model: PathModel;
  service?: ServiceModel;
  port?: ServicePortModel;
  nodePort?: number;
  clusterIP?: string;
  pods: PodModel[];
  nodes: NodeView[];
  mode: PathMode;
}

/** The Service port the program exposes: the expected s-port, else the one with a nodePort. */
function pickPort(service: ServiceModel | undefined, model: PathModel): ServicePortModel | undefined {
  if (!service) return undefined;
  const expected = model.target.expected;
  return (
    service.ports.find((p) => expected?.servicePort !== undefined && p.port === expected.servicePort) ??
    service.ports.find((p) => expected?.nodePort !== undefined && p.nodePort === expected.nodePort) ??
    service.ports.find((p) => p.nodePort !== undefined) ??
    service.ports[0]
  );
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The Service's pods: those its selector picks (all listed pods when the selector is unknown). */
function servicePods(model: PathModel, service?: ServiceModel): PodModel[] {
  const pods = model.kubernetes?.pods ?? [];
  const selector = service?.selector ?? {};
  if (Object.keys(selector).length === 0) return pods;
  return pods.filter((p) => selects(selector, p.labels));
}

/** Find the Service in a node's trace: by clusterIP:port, else by nodePort, else by its name. */
export function findTracedService(
  trace: TraceResult,
  wanted: { clusterIP?: string; port?: number; nodePort?: number; names: string[] },
): TracedService | undefined {
  return (
    trace.services.find((s) => wanted.clusterIP !== undefined && s.clusterIP === wanted.clusterIP && s.port === wanted.port) ??
    trace.services.find((s) => wanted.nodePort !== undefined && s.nodePort === wanted.nodePort) ??
    trace.services.find((s) => s.service !== null && wanted.names.includes(s.service))
  );
}

export function buildContext(model: PathModel): CheckContext {
  const service = model.kubernetes?.service;
  const port = pickPort(service, model);
  const nodePort = port?.nodePort ?? model.target.expected?.nodePort;
  const clusterIP = service?.clusterIP;
  const pods = servicePods(model, service);
  const names = service
    ? [`${service.namespace}/${service.name}${port?.name ? ":" + port.name : ""}`, `${service.namespace}/${service.name}`]
    : [];

  // Every node any source knows, Kubernetes' list first (it is the authority on cluster membership).
  const order: string[] = [];
  const add = (name: string) => {
    if (!order.includes(name)) order.push(name);
  };
  (model.kubernetes?.nodes ?? []).forEach((n) => add(n.name));
  model.nodes.forEach((n) => add(n.name));
  // --nodes chose some: the claims speak of those (the report says which and how many of all)
  if (model.nodeSelection && model.nodeSelection.mode !== "all") {
    const chosen = new Set(model.nodeSelection.chosen);
    order.splice(0, order.length, ...order.filter((n) => chosen.has(n)));
  }

  const nodes: NodeView[] = order.map((name) => {
    const node = model.nodes.find((n) => n.name === name);
    const kube = model.kubernetes?.nodes.find((n) => n.name === name);
    const internalIp = kube?.internalIp ?? node?.internalIp;
    const trace = node?.nat ? tracedDump(node.nat.text, internalIp, node.nat.lineNumbers) : undefined;
    const traced = trace ? findTracedService(trace, { clusterIP, port: port?.port, nodePort, names }) : undefined;
    return {
      name,
      node,
      kube,
      internalIp,
      pods: pods.filter((p) => p.nodeName === name),
      trace,
      traced,
      dumpSource: `node ${name}: ${node?.nat?.command ?? "iptables-save -t nat"}`,
    };
  });

  return { model, service, port, nodePort, clusterIP, pods, nodes, mode: detectPathMode(model, nodes) };
}

/** The sources whose problems say why a node's outputs are missing. */
export const NODE_SOURCES: Problem["source"][] = ["ssh", "snapshot", "lab"];

/**
 * "source: message" for the problems of the given sources (and subject), at most two plus a count:
 * a summary names the cause; the report's problem list has every one with its hint.
 */
export function problemText(model: PathModel, sources: Problem["source"][], subject?: string): string[] {
  const all = model.problems
    .filter((p) => sources.includes(p.source) && (subject === undefined || p.subject === undefined || p.subject === subject))
    .map((p) => `${p.source}: ${p.message}`);
  const unique = [...new Set(all)];
  return unique.length <= 2 ? unique : [...unique.slice(0, 2), `+${unique.length - 2} more (see the problems)`];
}

/**
 * Why a node's data is missing, from the node sources' problems (SSH, a snapshot's node files, the
 * lab); a generic reason when none was recorded. A problem with a `brief` is referred to by it alone
 * (no node name: the caller names the nodes once for all that share it).
 */
export function whyNoNodeData(ctx: CheckContext, view: NodeView, what: string): string {
  const brief = ctx.model.problems.find((p) => NODE_SOURCES.includes(p.source) && p.subject === view.name && p.brief)?.brief;
  if (brief) return brief;
  const reasons = problemText(ctx.model, NODE_SOURCES, view.name);
  if (reasons.length > 0) return reasons.join("; ");
  if (!view.node) return `node ${view.name} was not read over SSH`;
  if (!view.node.reachable) return view.node.transport === "snapshot" ? `no node files for ${view.name} in the folder` : `node ${view.name} was not reachable over SSH`;
  return `node ${view.name}: ${what} was not collected`;
}

export function ruleLine(rule: RuleRef): string {
  return `line ${rule.line}: ${rule.text}`;
}

/** The KUBE-SVC-* / KUBE-SVL-* (or nft service-*) chain an endpoint's walk passes through. */
export function serviceChainOf(endpoint: TracedEndpoint | undefined, traced?: TracedService): string | undefined {
  const isServiceChain = (chain: string) => chain.startsWith("KUBE-SVC-") || chain.startsWith("KUBE-SVL-") || chain.startsWith("service-");
  const walked = endpoint?.evidence?.find((r) => isServiceChain(r.chain));
  return walked?.chain ?? traced?.chains?.find(isServiceChain);
}

/** The first walked rule that matches `test` (e.g. the --dport rule), for evidence. */
export function walkedRule(endpoint: TracedEndpoint | undefined, test: (rule: RuleRef) => boolean): RuleRef | undefined {
  return endpoint?.evidence?.find(test);
}

export const endpointKey = (ip: string, port: number) => `${ip}:${port}`;
