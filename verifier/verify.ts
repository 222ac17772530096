// Orchestration shared by `npm run verify` (GKE) and `lab verify`: collect -> counters before ->
// requests -> counters after -> checks. Sources are injected, so the lab passes its own and tests
// pass in-memory ones; checks and reports never touch the network.
import type { CheckResult, Diagnosis, KubernetesModel, LoadBalancerModel, NatDump, PathModel, Problem, RequestsModel } from "./model";
import type { KubeAccess, KubeNames, KubernetesResult, LoadBalancerResult, NodeTarget, NodesResult, Progress, SshOptions, StackOutputs } from "./sources/types";
import { silentProgress } from "./sources/types";
import { runChecks } from "./checks";
import { diagnose } from "./checks/diagnosis";
import { someNames } from "./checks/verdict";
import { redactSecrets } from "./outputs";
import { planProbes } from "./sources/node-outputs";
import { serviceFocus } from "./sources/node-reduce";
import { selectNodes, type NodesFlag } from "./sources/node-selection";

// ------------------------------------------------------------------ the generic pipeline

export interface VerifySteps {
  /** GCP, Kubernetes and nodes: the model before any request (target, loadBalancer, kubernetes, nodes, problems) */
  collect(progress: Progress): Promise<PathModel>;
  /** `iptables-save -c -t nat` per node name; called before and after the requests */
  readCounters?(model: PathModel): Promise<Map<string, NatDump | Problem>>;
  /** the end-to-end requests to the LB */
  requests?(model: PathModel): Promise<RequestsModel>;
}

export type ExitCode = 0 | 1 | 2;

export interface VerifyOutcome {
  model: PathModel;
  results: CheckResult[];
  /** which hop broke and why, ordered along the path; [] when no claim failed */
  diagnosis: Diagnosis[];
  /** 0 every claim passed, 1 a claim failed, 2 could not verify (see reason) */
  exitCode: ExitCode;
  reason: string;
}

/** Where a progress line sends the reader for why a node was not read: the report's problems. */
export const PROBLEMS_SAY_WHY = "(the problems say why)";

/** 1 when any claim failed (a definite finding), 0 when all passed, else 2 with what was missing. */
export function outcomeOf(model: PathModel, results: CheckResult[]): { exitCode: ExitCode; reason: string } {
  const failed = results.filter((r) => r.verdict === "fail");
  if (failed.length > 0) return { exitCode: 1, reason: `${failed.map((r) => r.id).join(", ")} failed` };
  const unknown = results.filter((r) => r.verdict === "cannot-tell");
  if (unknown.length === 0) return { exitCode: 0, reason: `all ${results.length} claims hold` };
  const ranked = rankProblems(model.problems, unknown);
  const problems = ranked.slice(0, 2);
  const more = ranked.length > 2 ? ` (+${ranked.length - 2} more problems)` : "";
  return { exitCode: 2, reason: `could not verify ${unknown.map((r) => r.id).join(", ")}${problems.length ? `: ${problems.join("; ")}${more}` : ""}` };
}

/**
 * The problems as lines, the most useful first: the one the most cannot-tell claims quote (node
 * files that would decide six claims before DaemonSets or Events that decide none), and one line
 * for problems that differ only by their subject ("ssh (node-1, node-2): ... for <node> ...").
 */
export function rankProblems(problems: Problem[], unknown: CheckResult[]): string[] {
  const groups = new Map<string, { template: string; subjects: string[]; weight: number; first: number }>();
  problems.forEach((p, i) => {
    const template = p.subject && p.message.includes(p.subject) ? p.message.split(p.subject).join(p.source === "ssh" || p.source === "snapshot" ? "<node>" : "<subject>") : p.message;
    const key = `${p.source}\n${template}`;
    // A claim quotes the problem, or refers to it by its brief next to its subject.
    const quotes = (text: string) => text.includes(p.message) || (p.brief !== undefined && text.includes(p.brief) && (p.subject === undefined || text.includes(p.subject)));
    const weight = unknown.filter((r) => quotes(`${r.summary}\n${r.evidence.map((e) => e.detail).join("\n")}`)).length;
    const g = groups.get(key);
    if (g) {
      if (p.subject && !g.subjects.includes(p.subject)) g.subjects.push(p.subject);
      g.weight = Math.max(g.weight, weight);
    } else groups.set(key, { template: `${p.source}${"{subjects}"}: ${template}`, subjects: p.subject ? [p.subject] : [], weight, first: i });
  });
  return [...groups.values()]
    .sort((a, b) => b.weight - a.weight || a.first - b.first)
    .map((g) => (g.subjects.length > 1 && g.template.includes("<") ? g.template.replace("{subjects}", ` (${g.subjects.join(", ")})`) : g.template.replace("{subjects}", "").replace(/<(node|subject)>/g, g.subjects[0] ?? "$&")));
}

function applyCounters(model: PathModel, dumps: Map<string, NatDump | Problem>, field: "countersBefore" | "countersAfter") {
  for (const [name, dump] of dumps) {
    if ("text" in dump) {
      const node = model.nodes.find((n) => n.name === name);
      if (node) node[field] = dump;
    } else model.problems.push({ ...dump, message: `${field === "countersBefore" ? "counters before" : "counters after"} the requests: ${dump.message}` });
  }
}

async function guarded<T>(
  source: Problem["source"],
  what: string,
  model: PathModel,
  run: () => Promise<T>,
  secrets?: Partial<StackOutputs>,
  hint?: string,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    model.problems.push({ source, message: `${what}: ${redactSecrets((err as Error).message ?? String(err), secrets)}`, ...(hint ? { hint } : {}) });
    return undefined;
  }
}

export async function verifyPath(steps: VerifySteps, progress: Progress = silentProgress): Promise<VerifyOutcome> {
  const model = await steps.collect(progress);
  // Counters only mean something around requests; without them, two SSH rounds would buy nothing.
  const counting = steps.readCounters !== undefined && steps.requests !== undefined && model.nodes.some((n) => n.reachable);
  if (counting) {
    progress.hop("counters before", "start");
    const before = await guarded("ssh", "counters before the requests", model, () => steps.readCounters!(model));
    if (before) applyCounters(model, before, "countersBefore");
    progress.hop("counters before", before ? "ok" : "fail");
  }
  if (steps.requests) {
    progress.hop("requests", "start");
    const requests = await guarded("requests", "requests to the load balancer", model, () => steps.requests!(model));
    if (requests) {
      model.requests = requests;
      const ok = requests.results.filter((r) => r.status === 200).length;
      progress.hop("requests", ok === requests.results.length ? "ok" : "fail", `${ok}/${requests.results.length} HTTP 200 from ${requests.url}`);
    } else progress.hop("requests", "fail");
  }
  if (counting) {
    progress.hop("counters after", "start");
    const after = await guarded("ssh", "counters after the requests", model, () => steps.readCounters!(model));
    if (after) applyCounters(model, after, "countersAfter");
    progress.hop("counters after", after ? "ok" : "fail");
  }
  const results = runChecks(model);
  return { model, results, diagnosis: diagnose(model, results), ...outcomeOf(model, results) };
}

// ------------------------------------------------------------------ the GKE sources

/** The Compute options the GCP source takes (verifier/sources/gcp.ts GcpOptions). */
export interface GcpCallOptions {
  rootUrl?: string;
  accessToken?: string;
  progress: Progress;
  /** where fetchHostKeys reports the nodes whose keys it could not read, and why */
  problems?: Problem[];
  /** the cluster's location (zone or region) and the Ingress class: regional classes live under regions/<region>/ */
  location?: string;
  ingressClass?: string;
}

/** Everything `npm run verify` reads from the outside world; tests pass in-memory stand-ins. */
export interface GkeSources {
  googleAccessToken(): Promise<string>;
  kubeAccessFromKubeconfig(kubeconfig: string, token: string): KubeAccess;
  collectKubernetes(access: KubeAccess, names: KubeNames, progress: Progress): Promise<KubernetesResult>;
  collectLoadBalancer(project: string, ingressAnnotations: Record<string, string>, opts: GcpCallOptions): Promise<LoadBalancerResult>;
  fetchHostKeys(project: string, instances: { name: string; zone: string }[], opts: GcpCallOptions): Promise<Map<string, string[]>>;
  /** the second source: host keys the nodes printed on their serial consoles (serial-console.ts); optional for stand-ins */
  fetchConsoleHostKeys?(project: string, instances: { name: string; zone: string }[], opts: GcpCallOptions): Promise<Map<string, { keys: string[]; fingerprints: { fingerprint: string }[] }>>;
  collectNodes(targets: NodeTarget[], opts: SshOptions, progress: Progress): Promise<NodesResult>;
  /** `collected`: node name -> the command whose nat dump the collection chose (collectedNatCommands) */
  readNatCounters(targets: NodeTarget[], opts: SshOptions, collected?: ReadonlyMap<string, string>): Promise<Map<string, NatDump | Problem>>;
  sendRequests(url: string, count: number, opts: { keepAlive?: boolean; timeoutMs: number }): Promise<RequestsModel>;
}

/** node name -> the command that gave the node's nat dump (NatDump.command), for the nodes read. */
export function collectedNatCommands(model: PathModel): Map<string, string> {
  return new Map(model.nodes.flatMap((n) => (n.reachable && n.nat ? [[n.name, n.nat.command] as [string, string]] : [])));
}

/** The live sources, loaded on demand (the Kubernetes client is large; bad input fails before it loads). */
export async function loadLiveSources(): Promise<GkeSources> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const k8s = require("./sources/k8s") as typeof import("./sources/k8s");
  const gcp = require("./sources/gcp") as typeof import("./sources/gcp");
  const ssh = require("./sources/ssh") as typeof import("./sources/ssh");
  const serialConsole = require("./sources/serial-console") as typeof import("./sources/serial-console");
  const requests = require("./requests") as typeof import("./requests");
  return {
    googleAccessToken: gcp.googleAccessToken,
    kubeAccessFromKubeconfig: k8s.kubeAccessFromKubeconfig,
    collectKubernetes: k8s.collectKubernetes,
    collectLoadBalancer: gcp.collectLoadBalancer,
    fetchHostKeys: gcp.fetchHostKeys,
    fetchConsoleHostKeys: serialConsole.fetchConsoleHostKeys,
    collectNodes: ssh.collectNodes,
    readNatCounters: ssh.readNatCounters,
    sendRequests: requests.sendRequests,
  };
}

export interface GkeVerifyOptions {
  /** number of end-to-end requests (0 skips them) */
  requests: number;
  keepAlive: boolean;
  transport: "direct" | "iap";
  /** per hop: SSH per node, each request */
  timeoutMs: number;
  /** a Google OAuth access token to use instead of Application Default Credentials */
  accessToken?: string;
  /** --trust-host-key-on-first-use: nodes with no known key are read anyway, each reported as not verified */
  trustHostKeyOnFirstUse?: boolean;
  /** keep each node's outputs whole (the snapshot command saves them); default: cut down to the Service's rules */
  wholeNodeOutputs?: boolean;
  /** --nodes: all (default), a deterministic sample of N, or named nodes */
  nodes?: NodesFlag;
  /** --concurrency: nodes read at the same time (default: the transport's, sources/ssh.ts) */
  concurrency?: number;
}

/** Node targets: the LB's instances (zone, IPs), else Kubernetes' nodes (providerId gce://project/zone/name). */
export function nodeTargets(lb: LoadBalancerModel | undefined, kube: KubernetesModel | undefined, transport: "direct" | "iap"): { targets: NodeTarget[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const byName = new Map<string, { name: string; zone?: string; internalIp?: string; externalIp?: string }>();
  for (const vm of lb?.instances ?? []) byName.set(vm.name, { name: vm.name, zone: vm.zone, internalIp: vm.internalIp, externalIp: vm.externalIp });
  for (const n of kube?.nodes ?? []) {
    const zone = /^gce:\/\/[^/]+\/([^/]+)\//.exec(n.providerId ?? "")?.[1];
    const known = byName.get(n.name);
    byName.set(n.name, { name: n.name, zone: known?.zone ?? zone, internalIp: known?.internalIp ?? n.internalIp, externalIp: known?.externalIp ?? n.externalIp });
  }
  const targets: NodeTarget[] = [];
  for (const n of byName.values()) {
    const address = transport === "iap" ? n.name : n.externalIp;
    if (!address) {
      problems.push({ source: "ssh", subject: n.name, message: "no external IP to connect to", hint: "use --transport iap" });
      continue;
    }
    if (transport === "iap" && !n.zone) {
      problems.push({ source: "ssh", subject: n.name, message: "zone unknown, needed for IAP" });
      continue;
    }
    targets.push({ name: n.name, address, port: 22, internalIp: n.internalIp, externalIp: n.externalIp, zone: n.zone, hostKeys: [] });
  }
  return { targets, problems };
}

/** Why the load balancer may be missing: a ClusterIP Service or the controller's Warning events say it; only without them is it "wait". */
function notMadeHint(kube: KubernetesModel): string {
  const svc = kube.service;
  if (svc?.type === "ClusterIP") return `Service ${svc.namespace}/${svc.name} is type ClusterIP: the controller will never make a load balancer for it on instance groups (see the diagnosis)`;
  if ((kube.events ?? []).some((e) => e.type === "Warning" && e.involvedObject.startsWith("Ingress/"))) return "the controller says why in the Ingress's Warning events (the diagnosis quotes them; `kubectl describe ingress`)";
  return "no Warning event from the controller: right after `pulumi up` it takes a few minutes; `kubectl describe ingress` shows its progress";
}

/** "2 guest attributes, 1 serial console, 1 none": which host-key source served how many nodes. */
export function hostKeySourceSummary(targets: NodeTarget[]): string {
  const count = (source: string | undefined) => targets.filter((t) => t.hostKeySource === source).length;
  const parts = [
    [count("guest-attributes"), "guest attributes"],
    [count("serial-console"), "serial console"],
    [count(undefined), "none"],
  ].filter(([n]) => (n as number) > 0);
  return parts.map(([n, what]) => `${n} ${what}`).join(", ");
}

/** The collection steps of a GKE stack, from its outputs. */
export function gkeSteps(outputs: StackOutputs, options: GkeVerifyOptions, sources: GkeSources): VerifySteps {
  const ssh: SshOptions = { user: outputs.sshUser, privateKey: outputs.sshPrivateKey, transport: options.transport, project: outputs.project, timeoutMs: options.timeoutMs, trustHostKeyOnFirstUse: options.trustHostKeyOnFirstUse };
  let targets: NodeTarget[] = [];

  return {
    async collect(progress) {
      const model: PathModel = {
        target: {
          kind: "gke",
          project: outputs.project,
          location: outputs.location,
          clusterName: outputs.clusterName,
          url: outputs.url,
          loadBalancerIp: outputs.loadBalancerIp,
          expected: { servicePort: outputs.servicePort, podPort: outputs.podPort, nodePort: outputs.nodePort },
        },
        nodes: [],
        problems: [],
      };
      if (options.requests === 0) model.problems.push({ source: "requests", message: "no request was sent (--requests 0)" });
      const keep = (problems: Problem[]) => model.problems.push(...problems.map((p) => ({ ...p, message: redactSecrets(p.message, outputs) })));

      // One token for both APIs: the cluster accepts Google OAuth tokens, so no auth plugin is needed.
      progress.hop("google credentials", "start");
      const token = options.accessToken ?? (await guarded("gcp", "no Google access token", model, () => sources.googleAccessToken(), outputs, "run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a key file, or GOOGLE_OAUTH_ACCESS_TOKEN to a token) and re-run"));
      progress.hop("google credentials", token ? "ok" : "fail");

      let kube: KubernetesModel | undefined;
      if (token) {
        progress.hop("kubernetes API", "start");
        const access = await guarded("input", "the kubeconfig output is not usable", model, async () => sources.kubeAccessFromKubeconfig(outputs.kubeconfig, token), outputs);
        if (access) {
          const names: KubeNames = { namespace: outputs.namespace, serviceName: outputs.serviceName, ingressName: outputs.ingressName, deploymentName: outputs.deploymentName };
          const got = await guarded("kubernetes", "reading the cluster", model, () => sources.collectKubernetes(access, names, progress), outputs);
          if (got) {
            kube = got.value;
            keep(got.problems);
          }
        }
        model.kubernetes = kube;
        const kubeOk = kube !== undefined && !model.problems.some((p) => p.source === "kubernetes");
        progress.hop("kubernetes API", kubeOk ? "ok" : "fail", kube ? `${kube.nodes.length} nodes, ${kube.pods.length} pods, datapath ${kube.datapath ?? "unknown"}` : undefined);
      } else {
        model.problems.push({ source: "kubernetes", message: "the Kubernetes API was not read: no Google access token" });
        progress.hop("kubernetes API", "skip", "no access token");
      }

      const annotations = kube?.ingress?.annotations;
      let lb: LoadBalancerModel | undefined;
      if (token && annotations && Object.keys(annotations).some((k) => k.startsWith("ingress.kubernetes.io/"))) {
        progress.hop("load balancer (Compute API)", "start");
        const got = await guarded("gcp", "reading the load balancer", model, () => sources.collectLoadBalancer(outputs.project, annotations, { accessToken: token, progress, location: outputs.location, ingressClass: kube?.ingress?.className }), outputs);
        if (got) {
          lb = got.value;
          keep(got.problems);
        }
        model.loadBalancer = lb;
        progress.hop("load balancer (Compute API)", lb && !model.problems.some((p) => p.source === "gcp") ? "ok" : "fail", lb?.forwardingRule ? `${lb.forwardingRule.name} ${lb.forwardingRule.ipAddress}` : undefined);
      } else {
        const why = !token ? "no access token" : !kube?.ingress ? "the Ingress was not read" : "the Ingress has no ingress.kubernetes.io/* annotations yet";
        model.problems.push({ source: "gcp", message: `the load balancer was not read: ${why}`, hint: kube?.ingress ? notMadeHint(kube) : undefined });
        progress.hop("load balancer (Compute API)", "skip", why);
      }

      const planned = nodeTargets(lb, kube, options.transport);
      keep(planned.problems);
      if (options.nodes && options.nodes.kind !== "all") {
        const picked = selectNodes(planned.targets, options.nodes, kube);
        planned.targets = picked.targets;
        model.nodeSelection = picked.selection;
        for (const name of picked.unknown) keep([{ source: "input", subject: name, message: `--nodes names ${name}, which is not a node of this cluster`, hint: `the nodes are: ${[...new Set([...(kube?.nodes ?? []).map((n) => n.name), ...(lb?.instances ?? []).map((i) => i.name)])].slice(0, 20).join(", ")}` }]);
      }
      if (options.concurrency !== undefined) ssh.concurrency = options.concurrency;
      if (planned.targets.length > 0 && token) {
        progress.hop("node host keys", "start");
        // Without this list the Compute API's reason (API error, guest attributes off) and its hint
        // would be lost, leaving only SSH's generic "no host keys known".
        const keyProblems: Problem[] = [];
        const keys = await guarded("gcp", "reading the nodes' SSH host keys (guest attributes)", model, () => sources.fetchHostKeys(outputs.project, planned.targets.filter((t) => t.zone).map((t) => ({ name: t.name, zone: t.zone! })), { accessToken: token, progress, problems: keyProblems }), outputs);
        planned.targets.forEach((t) => {
          t.hostKeys = keys?.get(t.name) ?? [];
          if (t.hostKeys.length > 0) t.hostKeySource = "guest-attributes";
        });
        // The second, independent source for nodes whose guest attributes gave nothing.
        const missing = planned.targets.filter((t) => t.hostKeys.length === 0 && t.zone);
        if (missing.length > 0 && sources.fetchConsoleHostKeys) {
          const fromConsole = await guarded("gcp", "reading the nodes' SSH host keys (serial console)", model, () => sources.fetchConsoleHostKeys!(outputs.project, missing.map((t) => ({ name: t.name, zone: t.zone! })), { accessToken: token, progress, problems: keyProblems }), outputs);
          for (const t of missing) {
            const found = fromConsole?.get(t.name);
            if (!found || (found.keys.length === 0 && found.fingerprints.length === 0)) continue;
            t.hostKeys = found.keys;
            t.hostKeyFingerprints = found.fingerprints.map((f) => f.fingerprint);
            t.hostKeySource = "serial-console";
          }
        }
        keep(keyProblems);
        const known = planned.targets.filter((t) => t.hostKeySource).length;
        progress.hop("node host keys", known === planned.targets.length ? "ok" : "fail", `${known}/${planned.targets.length} nodes (${hostKeySourceSummary(planned.targets)})`);
      }
      targets = planned.targets;
      // Each node's dumps are cut down to the judged Service's rules as they arrive (node-reduce.ts).
      const focus = options.wholeNodeOutputs ? undefined : serviceFocus(kube);
      if (focus) ssh.focus = focus;
      targets.forEach((t) => (t.probes = planProbes(t.internalIp, lb, kube, model.target.expected)));
      if (targets.length > 0) {
        progress.hop("nodes over SSH", "start");
        const got = await guarded("ssh", "reading the nodes", model, () => sources.collectNodes(targets, ssh, progress), outputs);
        if (got) {
          model.nodes = got.nodes;
          keep(got.problems);
        }
        const reachable = model.nodes.filter((n) => n.reachable).length;
        const unread = targets.filter((t) => !model.nodes.some((n) => n.name === t.name && n.reachable)).map((t) => t.name);
        const named = someNames(unread, 10);
        progress.hop("nodes over SSH", reachable === targets.length ? "ok" : "fail", `${reachable}/${targets.length} nodes read over SSH (${options.transport})${unread.length ? `; not read: ${named} ${PROBLEMS_SAY_WHY}` : ""}`);
      } else {
        progress.hop("nodes over SSH", "skip", "no node is known");
      }
      return model;
    },
    readCounters: async (model) => sources.readNatCounters(targets.filter((t) => model.nodes.some((n) => n.name === t.name && n.reachable)), ssh, collectedNatCommands(model)),
    requests: options.requests > 0 ? async () => sources.sendRequests(outputs.url, options.requests, { keepAlive: options.keepAlive, timeoutMs: options.timeoutMs }) : undefined,
  };
}

/** `npm run verify` in one call: the GKE steps with the given (or live) sources, then the checks. */
export async function verifyGke(outputs: StackOutputs, options: GkeVerifyOptions, progress: Progress = silentProgress, sources?: GkeSources): Promise<VerifyOutcome> {
  return verifyPath(gkeSteps(outputs, options, sources ?? (await loadLiveSources())), progress);
}


