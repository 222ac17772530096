// `lab verify`: the verifier's checks C1..C12 on the running lab. The model comes from the lab
// source (LB + Kubernetes stand-ins, nodes over real SSH), the requests come from INSIDE the client
// namespace, and each node's nat counters are read before and after them, so the report shows
// which KUBE-SEP rule took each new connection (on a NEG lab: that none did, lab/neg.ts).
import type { CheckResult, Diagnosis, PathModel, RequestsModel } from "../verifier/model";
import { asRoot } from "../verifier/cli/as-root";
import { PROGRESS_MARK, progressLine } from "../verifier/cli/flags";
import { accountNewConnections, type ConnectionAccount } from "../verifier/checks";
import { renderJson } from "../verifier/report/json";
import { renderMarkdown } from "../verifier/report/markdown";
import { renderTerminal } from "../verifier/report/terminal";
import { GROUP_FROM_NODES, someNames, type ReportSection } from "../verifier/report/common";
import { plural, wrap } from "../verifier/report/layout";
import { collectLab, labNodeTargets, labSshOptions } from "./source";
import { readNatCounters } from "../verifier/sources/ssh";
import type { Progress } from "../verifier/sources/types";
import type { NodesFlag } from "../verifier/sources/node-selection";
import { collectedNatCommands, verifyPath, type ExitCode, type VerifySteps } from "../verifier/verify";
import { compiledEntry } from "../scripts/repo";
import { processRunning } from "./host";
import { lbStatus, setHealthChecksPaused, setLbKeepAlive, type LbStatus } from "./lb-control";
import { run } from "./netns";
import { labPaths, readClientKey, readState } from "./state";
import { labUrl, type LabTopology } from "./topology";
import { LabError } from "./up";
import { compareNegWithLb, negConnectionSection, placedPods, type NegConnectionCheck } from "./neg";

export interface VerifyOptions {
  /** requests sent from the client namespace (default 100) */
  requests?: number;
  /** client and LB reuse connections during the requests (default: a new connection per request) */
  keepAlive?: boolean;
  /** per-request timeout (default 5000 ms) */
  requestTimeoutMs?: number;
  /** colour the terminal report */
  color?: boolean;
  /** the terminal's width in columns (default 100) */
  width?: number;
  /** evidence quotes whole rules instead of their gist */
  full?: boolean;
  /** progress lines; default silent */
  log?: (line: string) => void;
  /** --nodes: which of the lab's nodes to read, as verify chooses them (default all) */
  nodes?: NodesFlag;
  /** --concurrency: nodes read over SSH at the same time (default: the lab transport's, 32) */
  concurrency?: number;
}

/** What the LB did while the requests ran, per node, next to what the nodes' nat counters saw. */
export interface LabConnectionCheck {
  node: string;
  /** TCP connections the LB opened to this node for proxied requests during the counted window */
  lbProxyConnections: number;
  /** health-check connections in the window (0: health checks are held while counting) */
  lbHealthCheckConnections: number;
  /** new connections the node's KUBE-NODEPORTS rule for the nodePort counted */
  natNodePortConnections?: number;
  /** new connections the Service's KUBE-SEP DNAT rules on this node counted */
  natDnatConnections?: number;
  /** every connection the LB opened to the node was counted once by its nat rules */
  accounted: boolean;
  /** why not, when not accounted (counters unread, connections DNATed nowhere, ...) */
  reason?: string;
}

export interface VerifyOutcome {
  model: PathModel;
  results: CheckResult[];
  /** which hop broke and why, ordered along the path ([] when every claim holds) */
  diagnosis: Diagnosis[];
  account?: ConnectionAccount;
  connections: LabConnectionCheck[];
  /** NEG lab (lab up --backend neg): per endpoint, the LB's connections and the node's still nat counters; [] otherwise */
  negConnections: NegConnectionCheck[];
  terminal: string;
  json: string;
  markdown: string;
  /** as `npm run verify`: 0 every claim passed, 1 a claim failed, 2 could not verify (see reason) */
  exitCode: ExitCode;
  reason: string;
}

export async function labVerify(t: LabTopology, opts: VerifyOptions = {}): Promise<VerifyOutcome> {
  const log = opts.log ?? (() => undefined);
  const count = opts.requests ?? 100;
  const keepAlive = opts.keepAlive ?? false;
  const state = readState(t);
  if (!state?.complete) throw new LabError(`lab "${t.prefix}" is not up${state ? " (its lab up did not finish)" : ""}: run ${asRoot("npm run lab -- up")}`);
  const privateKey = readClientKey(t);
  if (!privateKey) throw new LabError(`lab "${t.prefix}" has no verifier key in ${t.stateDir}: run ${asRoot("npm run lab -- down")}, then up`);
  const socket = labPaths(t).lbControlSocket;
  const targets = labNodeTargets(t, state.hostKeys);
  const sshOptions = { ...labSshOptions(t, privateKey), ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) };
  // The nodes collect read (all, or those --nodes chose): the counters are read on the same ones.
  let read = new Set(targets.map((target) => target.name));

  const progress: Progress = {
    hop: (name, hopState, detail) => {
      if (hopState !== "start") log(progressLine(PROGRESS_MARK[hopState], name, detail));
    },
  };

  // The counted window runs from the first counter read to the second: health checks are held
  // (so every new connection on the nodes is a proxied request) and the LB's keep-alive is set as
  // asked; the LB's own connection counts are read at both ends to compare with the nat counters.
  let counterReads = 0;
  let lbBefore: LbStatus | undefined;
  let lbAfter: LbStatus | undefined;
  const steps: VerifySteps = {
    collect: async (p) => {
      const podRunning = Object.fromEntries(t.pods.map((pod) => [pod.name, processRunning(state.pids[pod.name])]));
      const model = await collectLab(
        { topology: t, privateKey, hostKeys: state.hostKeys, lbControlSocket: socket, podRunning, externalTrafficPolicy: state.externalTrafficPolicy, state, nodes: opts.nodes, concurrency: opts.concurrency },
        p,
      );
      read = new Set(model.nodes.map((n) => n.name));
      return model;
    },
    readCounters: async (model) => {
      const collected = collectedNatCommands(model);
      if (counterReads++ === 0) {
        await setHealthChecksPaused(socket, true);
        await setLbKeepAlive(socket, keepAlive);
        // A health check already in flight when the pause began must finish before counting starts.
        await new Promise((r) => setTimeout(r, 50));
        lbBefore = await lbStatus(socket);
        return readNatCounters(targets.filter((target) => read.has(target.name)), sshOptions, collected);
      }
      const dumps = await readNatCounters(targets.filter((target) => read.has(target.name)), sshOptions, collected);
      lbAfter = await lbStatus(socket);
      return dumps;
    },
    requests: () => {
      log(`  sending ${count} requests to ${labUrl(t)} from namespace ${t.client.namespace}${keepAlive ? " (keep-alive)" : ""}`);
      return requestsFromClient(t, count, keepAlive, opts.requestTimeoutMs ?? 5000);
    },
  };

  let outcome: Awaited<ReturnType<typeof verifyPath>>;
  try {
    outcome = await verifyPath(steps, progress);
  } finally {
    await setLbKeepAlive(socket, state.keepAlive).catch(() => undefined);
    await setHealthChecksPaused(socket, false).catch(() => undefined);
  }
  const { model, results, diagnosis, exitCode, reason } = outcome;
  const account = accountNewConnections(model);
  const neg = state.backend === "neg";
  // On the NEG path the LB's backends are endpoints, not nodes: the per-node comparison does not apply.
  const connections = neg ? [] : compareWithLb(account, lbBefore, lbAfter);
  const negConnections = neg ? compareNegWithLb(account, model.requests?.results ?? [], placedPods(t, state), lbBefore, lbAfter) : [];
  const accounting = neg ? negConnectionSection(negConnections, keepAlive) : connectionSection(connections, keepAlive);
  return {
    model,
    results,
    diagnosis,
    account,
    connections,
    negConnections,
    terminal: `${renderTerminal(model, results, { color: opts.color, width: opts.width, full: opts.full, diagnosis: outcome.diagnosis, sections: [accounting] })}\n${wrap(`exit ${exitCode}: ${reason}`, opts.width ?? 100, "", "  ").join("\n")}\n`,
    json: renderJson(model, results, { outcome: { exitCode, reason }, diagnosis: outcome.diagnosis, lab: { healthChecksHeld: true, keepAlive, connections, ...(neg ? { backend: "neg", negConnections } : {}) } }),
    markdown: renderMarkdown(model, results, { diagnosis: outcome.diagnosis, sections: [accounting] }),
    exitCode,
    reason,
  };
}

/** Runs the request step inside the client namespace and reads its JSON answer. */
async function requestsFromClient(t: LabTopology, count: number, keepAlive: boolean, timeoutMs: number): Promise<RequestsModel> {
  const { stdout } = await run(
    "ip",
    [
      "netns",
      "exec",
      t.client.namespace,
      // compiled JavaScript: a ts-node start-up here cost about a second per lab verify
      ...compiledEntry("lab/client-requests.ts"),
      labUrl(t),
      String(count),
      keepAlive ? "1" : "0",
      String(timeoutMs),
    ],
    { timeoutMs: 60_000 + count * timeoutMs },
  );
  try {
    return JSON.parse(stdout) as RequestsModel;
  } catch {
    throw new Error(`the request step in ${t.client.namespace} printed no JSON: ${stdout.slice(0, 200)}`);
  }
}

export function compareWithLb(account: ConnectionAccount | undefined, before?: LbStatus, after?: LbStatus): LabConnectionCheck[] {
  if (!account || !before || !after) return [];
  return account.nodes.map((n) => {
    const b = before.backends.find((x) => x.name === n.node);
    const a = after.backends.find((x) => x.name === n.node);
    const proxy = (a?.proxyConnections ?? 0) - (b?.proxyConnections ?? 0);
    const health = (a?.healthCheckConnections ?? 0) - (b?.healthCheckConnections ?? 0);
    const natNodePort = n.unavailable ? undefined : (n.nodePortEntries?.newConnections ?? 0);
    const natDnat = n.unavailable ? undefined : n.total;
    const accounted = natNodePort === proxy + health && natDnat === proxy + health;
    let reason: string | undefined;
    if (!accounted) {
      if (n.unavailable) reason = `nat counters not read: ${n.unavailable}`;
      else if (natNodePort !== proxy + health) reason = `the LB opened ${proxy + health}, KUBE-NODEPORTS counted ${natNodePort} (a rule missing, or connections lost before the nat table)`;
      else reason = `${(natNodePort ?? 0) - (natDnat ?? 0)} connection(s) entered by n-port but were DNATed to no pod (a KUBE-SEP rule missing: they reach the node itself)`;
    }
    return {
      node: n.node,
      lbProxyConnections: proxy,
      lbHealthCheckConnections: health,
      natNodePortConnections: natNodePort,
      natDnatConnections: natDnat,
      accounted,
      ...(reason ? { reason } : {}),
    };
  });
}

/** What one node's accounting row says, without the node's name: nodes saying the same are alike. */
function accountingFact(r: LabConnectionCheck): string {
  return (
    `the LB opened ${plural(r.lbProxyConnections, "connection")}; nat counted ${r.natNodePortConnections ?? "?"} at KUBE-NODEPORTS, ` +
    `${r.natDnatConnections ?? "?"} at KUBE-SEP DNAT: ${r.accounted ? "every connection accounted for" : `MISMATCH: ${r.reason}`}`
  );
}

/**
 * The rows grouped by what they say (the node's name aside), each group in the order of its first
 * node: [{ fact, nodes }]. A node that differs in any count or reason is a group of its own.
 */
export function accountingGroups(rows: LabConnectionCheck[]): { fact: string; nodes: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    const fact = accountingFact(r);
    groups.set(fact, [...(groups.get(fact) ?? []), r.node]);
  }
  return [...groups].map(([fact, nodes]) => ({ fact, nodes }));
}

/**
 * The lab's accounting as a report section: per node, the LB's connections next to the nat
 * counters. From GROUP_FROM_NODES nodes on (verifier/report/common.ts, as the path groups them),
 * nodes whose counts say the same share one line ("47 nodes, each: ..."), and a last line totals
 * the nodes and names those that do not add up; the article's three nodes keep a line each.
 */
export function connectionSection(rows: LabConnectionCheck[], keepAlive: boolean): ReportSection {
  const title = `Lab connection accounting (health checks held while counting; the LB ${keepAlive ? "reuses its connections" : "opens one connection per request"})`;
  if (rows.length === 0) return { title, lines: ["not available: the counters or the LB's status are missing"] };
  if (rows.length < GROUP_FROM_NODES) return { title, lines: rows.map((r) => `${r.node}: ${accountingFact(r)}`) };
  const groups = accountingGroups(rows);
  const lines = groups.map(({ fact, nodes }) =>
    nodes.length === 1 ? `${nodes[0]}: ${fact}` : nodes.length === rows.length ? `all ${nodes.length} nodes, each: ${fact}` : `${nodes.length} nodes, each: ${fact} (${someNames(nodes)})`,
  );
  if (groups.length > 1) lines.push(accountingTotal(rows));
  return { title, lines };
}

/** The last line of a grouped accounting: the totals, or which nodes do not add up. */
function accountingTotal(rows: LabConnectionCheck[]): string {
  const off = rows.filter((r) => !r.accounted).map((r) => r.node);
  if (off.length > 0) return `${rows.length - off.length} of ${rows.length} nodes accounted for; MISMATCH on ${plural(off.length, "node")}: ${someNames(off, 8)}`;
  const sum = (f: (r: LabConnectionCheck) => number | undefined) => rows.reduce((total, r) => total + (f(r) ?? 0), 0);
  return (
    `all ${rows.length} nodes: the LB opened ${plural(sum((r) => r.lbProxyConnections), "connection")}; nat counted ${sum((r) => r.natNodePortConnections)} at KUBE-NODEPORTS, ` +
    `${sum((r) => r.natDnatConnections)} at KUBE-SEP DNAT: every connection accounted for`
  );
}
