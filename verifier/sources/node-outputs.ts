// What a node prints, read: the commands the verifier runs on a node (nat dumps in every backend,
// `ip -o addr`, `ss -Hltnp`, ip_forward, the probes) and the parsers that turn their outputs into the
// model's node facts. One home for both ends, so the live SSH source, the snapshot reader (nodes/<node>/
// files) and the lab (which reads its nodes over SSH) read a node the same way; the transport that
// carries the outputs (ssh2, gcloud over IAP, files) is not this module's business.
import type { ForwardingModel, InterfaceAddress, KubernetesModel, LoadBalancerModel, ListeningSocket, NatDump, NodeModel, NodeProbe, ProbeOutcome, Problem } from "../model";
import { gunzipSync } from "node:zlib";
import { reduceDump, type ServiceFocus } from "./node-reduce";
import type { ProbeRequest } from "./types";

// ---------------------------------------------------------------- commands

/** One way of reading the nat table; which one holds kube-proxy's rules is decided per node. */
export interface NatCandidate {
  command: string;
  /** undefined: the distribution's default `iptables-save`, backend read from its header */
  backend?: NatDump["backend"];
}

const sudoPrefix = (user: string) => (user === "root" ? "" : "sudo -n ");

/**
 * The nat-table readers, default backend first (ties go to the earlier one). No `-t nat`: naming a
 * table makes iptables create it, empty, in a backend that had none, and a verifier must leave the
 * node as it found it; without it, iptables-save dumps only the tables that exist (the tracer
 * reads the nat table out of them).
 */
export function natCandidates(user: string, withCounters: boolean): NatCandidate[] {
  const sudo = sudoPrefix(user);
  const c = withCounters ? " -c" : "";
  return [
    { command: `${sudo}iptables-save${c}` },
    { command: `${sudo}iptables-legacy-save${c}`, backend: "legacy" },
    { command: `${sudo}iptables-nft-save${c}`, backend: "nft" },
    // kube-proxy's nftables mode (k8s >= 1.29) keeps its rules in its own table.
    { command: `${sudo}nft list table ip kube-proxy`, backend: "nft-native" },
  ];
}

/**
 * The readers of a node's counters (`-c`). `collected`: the command whose dump the node's round
 * chose (NatDump.command); its counting form alone is run, so each counter read costs the node one
 * command instead of four. Without it, or for a command that is not one of natCandidates', all
 * candidates are run and chosen among as in the round.
 */
export function counterCandidates(user: string, collected?: string): NatCandidate[] {
  const counting = natCandidates(user, true);
  const i = collected === undefined ? -1 : natCandidates(user, false).findIndex((c) => c.command === collected);
  return i >= 0 ? [counting[i] as NatCandidate] : counting;
}

export function addressCommand(): string {
  return "ip -o addr show";
}

/** `-p` names the listening process; it needs root, hence sudo. */
export function listenerCommand(user: string): string {
  return `${sudoPrefix(user)}ss -Hltnp`;
}

/** net.ipv4.ip_forward as the kernel holds it: reading /proc needs neither root nor the sysctl binary. */
export function ipForwardCommand(): string {
  return "cat /proc/sys/net/ipv4/ip_forward";
}

/** Probe bounds, seconds: TCP connect, and the whole request. */
export const PROBE_CONNECT_TIMEOUT_S = 2;
export const PROBE_MAX_TIME_S = 3;

/** A path safe inside single quotes and a URL: percent-encoded, no quote, starting with "/". */
function probePath(path: string): string {
  const p = path.startsWith("/") ? path : `/${path}`;
  return encodeURI(decodeURISafe(p)).replace(/'/g, "%27");
}

function decodeURISafe(text: string): string {
  try {
    return decodeURI(text);
  } catch {
    return text;
  }
}

const probeUrl = (p: ProbeRequest) => `http://${p.address}:${p.port}${probePath(p.path)}`;

/**
 * One shell command sending every probe at once with curl (on GKE's Ubuntu and COS node images:
 * the node's own bootstrap, kubernetes cluster/gce/gci/configure.sh, downloads with curl), each
 * bounded by PROBE_CONNECT_TIMEOUT_S / PROBE_MAX_TIME_S. Each probe prints one line
 * "@P<i> <curl exit status> <http code> <redirect url>" (curl's message instead of the code on
 * failure), so they share one SSH channel of the connection already open.
 */
export function probeCommand(probes: ProbeRequest[]): string {
  const one = (p: ProbeRequest, i: number) =>
    `( r=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' --connect-timeout ${PROBE_CONNECT_TIMEOUT_S} --max-time ${PROBE_MAX_TIME_S} '${probeUrl(p)}' 2>&1); c=$?; echo "@P${i} $c" $r ) &`;
  return `${probes.map(one).join(" ")} wait`;
}

/**
 * The probes one node sends: n-ip:n-port and each pod's p-ip:p-port, with the path the LB's health
 * check asks for: the backend service's health check requestPath when read, else the pods'
 * readiness probe path (GKE's Ingress controller derives the health check from it), else "/".
 * Pods are the Service's (selector), with an IP; p-port is the numeric targetPort, a named one
 * looked up in the pod's containerPorts, else the program's podPort. [] when the nodePort is unknown
 * and no pod has an IP.
 */
export function planProbes(
  nodeIp: string | undefined,
  lb: LoadBalancerModel | undefined,
  kube: KubernetesModel | undefined,
  expected: { servicePort?: number; podPort?: number; nodePort?: number } = {},
): ProbeRequest[] {
  const service = kube?.service;
  const port = service?.ports.find((p) => p.port === expected.servicePort && p.nodePort !== undefined) ?? service?.ports.find((p) => p.nodePort !== undefined);
  const nodePort = port?.nodePort ?? expected.nodePort;
  const selector = service?.selector ?? {};
  const pods = (kube?.pods ?? []).filter((p) => p.ip && Object.entries(selector).every(([k, v]) => p.labels[k] === v));
  const checkPaths = (lb?.healthChecks ?? []).map((h) => h.requestPath).filter((x): x is string => !!x);
  const path = checkPaths[0] ?? pods.map((p) => p.readinessProbe?.path).find((x): x is string => !!x) ?? "/";
  const probes: ProbeRequest[] = [];
  if (nodeIp && nodePort !== undefined) probes.push({ target: "node-port", address: nodeIp, port: nodePort, path });
  for (const pod of pods) {
    const target = port?.targetPort;
    const podPort =
      typeof target === "number"
        ? target
        : (pod.containerPorts?.find((c) => c.name === target)?.containerPort ?? (target === undefined || /^\d+$/.test(String(target)) ? Number(target ?? expected.podPort) : expected.podPort));
    if (podPort !== undefined && Number.isInteger(podPort)) probes.push({ target: "pod", address: pod.ip!, port: podPort, path, pod: pod.name });
  }
  return probes;
}

/** The command shown as a probe's evidence: what a reader can paste on the node. */
export function probeDisplayCommand(p: ProbeRequest): string {
  return `curl -sS -o /dev/null -w '%{http_code}' --connect-timeout ${PROBE_CONNECT_TIMEOUT_S} --max-time ${PROBE_MAX_TIME_S} '${probeUrl(p)}'`;
}

/**
 * curl's exit status and output -> what the probe saw: 0 an HTTP status (with the redirect
 * target), 7 with "refused" a refused connection, 28 a timeout; anything else an error with
 * curl's words (127: curl is not on the node).
 */
export function classifyProbe(exit: number | undefined, rest: string): ProbeOutcome {
  if (exit === 0) {
    const m = /^(\d{3})(?:\s+(\S+))?/.exec(rest.trim());
    if (m && m[1] !== "000") return { kind: "http", status: Number(m[1]), ...(m[2] ? { location: m[2] } : {}) };
    return { kind: "error", message: `no HTTP status in curl's output "${rest.trim()}"` };
  }
  // curl 7.x says "Connection refused"; 8.x "Couldn't connect to server" (a route or host error names itself).
  if (exit === 7 && (/refused/i.test(rest) || !/no route|unreachable|network is|resolve/i.test(rest))) return { kind: "refused" };
  if (exit === 28) return { kind: "timeout", afterMs: (/Connection timed out|connect/i.test(rest) ? PROBE_CONNECT_TIMEOUT_S : PROBE_MAX_TIME_S) * 1000 };
  if (exit === 127 || /curl: (?:command )?not found/.test(rest)) return { kind: "error", message: "curl is not installed on the node" };
  const message = rest.replace(/^\d{3}\s*/, "").replace(/^curl: \(\d+\)\s*/, "").trim();
  return { kind: "error", message: `curl exit ${exit ?? "?"}${message ? `: ${message}` : ""}` };
}

/** The probe command's output -> one NodeProbe per request, in order; a missing line is an error outcome. */
export function parseProbeOutput(result: CommandResult, probes: ProbeRequest[]): NodeProbe[] {
  const lines = new Map<number, { exit: number; rest: string }>();
  for (const line of result.stdout.split("\n")) {
    const m = /^@P(\d+) (\d+)\s?(.*)$/.exec(line.trim());
    if (m) lines.set(Number(m[1]), { exit: Number(m[2]), rest: m[3] ?? "" });
  }
  return probes.map((p, i) => {
    const seen = lines.get(i);
    const outcome: ProbeOutcome = seen
      ? classifyProbe(seen.exit, seen.rest)
      : { kind: "error", message: `the probe printed nothing (${result.code === null ? firstLine(result.stderr) || "not run" : `shell exit ${result.code}${result.stderr ? `: ${firstLine(result.stderr)}` : ""}`})` };
    return { ...p, command: probeDisplayCommand(p), outcome };
  });
}

/** The `*filter` table of an iptables-save dump ("" when the dump has none: no filter table exists). */
export function filterSection(dump: string): string {
  const lines = dump.split("\n");
  const start = lines.findIndex((l) => l.trim() === "*filter");
  if (start < 0) return "";
  const end = lines.findIndex((l, i) => i > start && l.trim() === "COMMIT");
  return lines.slice(start, end < 0 ? undefined : end + 1).join("\n") + "\n";
}

export interface CommandResult {
  /** exit status; null when it could not be run at all */
  code: number | null;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------- parsing (pure)

/** `ip -o addr` -> one InterfaceAddress per inet/inet6 line. */
export function parseIpAddr(text: string): InterfaceAddress[] {
  const result: InterfaceAddress[] = [];
  for (const line of text.split("\n")) {
    const m = /^\d+:\s+(\S+)\s+inet6?\s+(\S+)(?:\s+peer\s+(\S+))?/.exec(line);
    if (!m) continue;
    const ifname = (m[1] as string).split("@")[0] as string;
    // Point-to-point links print "inet A peer B/len": the prefix belongs to the peer.
    const local = m[2] as string;
    const withPrefix = local.includes("/") ? local : (m[3] ?? "");
    const slash = withPrefix.lastIndexOf("/");
    const address = local.split("/")[0] as string;
    const prefixLength = slash >= 0 ? Number(withPrefix.slice(slash + 1)) : address.includes(":") ? 128 : 32;
    result.push({ ifname, address, prefixLength });
  }
  return result;
}

/** One "Local Address:Port" of ss -> address (no brackets, no %zone) and port. */
function splitSsAddress(text: string): { address: string; port: number } | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  let address = text.slice(0, colon);
  if (address.startsWith("[") && address.endsWith("]")) address = address.slice(1, -1);
  address = address.split("%")[0] as string;
  return { address, port };
}

const SS_NETIDS = new Set(["tcp", "udp", "raw", "u_str", "u_dgr", "u_seq", "sctp", "mptcp", "p_raw", "p_dgr", "nl"]);

/** `ss -ltn[p]` (with or without header / Netid column) -> the listening sockets. */
export function parseSsListeners(text: string): ListeningSocket[] {
  const result: ListeningSocket[] = [];
  for (const line of text.split("\n")) {
    let tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0 || tokens[0] === "State" || tokens[0] === "Netid") continue;
    if (SS_NETIDS.has(tokens[0] as string)) tokens = tokens.slice(1);
    if (tokens[0] !== "LISTEN" || tokens.length < 4) continue;
    const local = splitSsAddress(tokens[3] as string);
    if (!local) continue;
    const rest = tokens.slice(5).join(" ");
    const names = [...rest.matchAll(/\("([^"]+)",pid=/g)].map((m) => m[1] as string);
    const socket: ListeningSocket = { address: local.address, port: local.port };
    if (names.length > 0) socket.process = [...new Set(names)].join(",");
    result.push(socket);
  }
  return result;
}

/** Which backend an `iptables-save` dump came from, by its header ("(nf_tables)" / "(legacy)"). */
export function iptablesSaveBackend(text: string): "legacy" | "nft" {
  const header = /^# Generated by iptables(?:-nft|-legacy)?-save v\S+(?: \(([^)]+)\))?/m.exec(text);
  return header?.[1] === "nf_tables" ? "nft" : "legacy";
}

/** How much of kube-proxy a dump holds: rules in KUBE-* chains (iptables) or rules in its nft table. */
export function kubeProxyRuleCount(text: string, backend: NatDump["backend"] | undefined): number {
  if (backend === "nft-native") {
    return text.split("\n").filter((l) => /\b(jump|goto|dnat|masquerade|vmap)\b/.test(l)).length;
  }
  // counted in place: a node's dump can be tens of MB, and this runs on every candidate
  const count = (prefix: string) => {
    let n = text.startsWith(prefix) ? 1 : 0;
    for (let at = text.indexOf(`\n${prefix}`); at >= 0; at = text.indexOf(`\n${prefix}`, at + 1)) n++;
    return n;
  };
  return count("-A KUBE-") + count(":KUBE-");
}

export interface NatChoice {
  dump?: NatDump;
  problem?: Omit<Problem, "subject">;
}

/**
 * Picks the dump holding kube-proxy's rules among what the candidates printed: the most KUBE-*
 * content wins, the default `iptables-save` on ties. With no KUBE-* anywhere the default dump is
 * still returned (the checks show it is empty) together with a Problem explaining why.
 */
export function chooseNatDump(candidates: NatCandidate[], results: CommandResult[]): NatChoice {
  const readable = candidates
    .map((candidate, i) => ({ candidate, result: results[i] as CommandResult }))
    .filter(({ result }) => result && result.code === 0 && result.stdout.trim() !== "");
  if (readable.length === 0) {
    // a reader that succeeds with no output has no tables in its backend: not an error of its own
    const errors = results.map((r, i) => `${candidates[i]?.command}: ${firstLine(r?.stderr) || (r?.code === 0 ? "printed no table" : `exit ${r?.code}`)}`);
    return { problem: { source: "ssh", message: `could not read the nat table (${errors.join("; ")})`, hint: natHint(results) } };
  }
  const scored = readable.map(({ candidate, result }) => {
    const backend = candidate.backend ?? iptablesSaveBackend(result.stdout);
    return { dump: { command: candidate.command, backend, text: result.stdout } as NatDump, score: kubeProxyRuleCount(result.stdout, backend) };
  });
  const best = scored.reduce((a, b) => (b.score > a.score ? b : a));
  if (best.score > 0) return { dump: best.dump };
  return {
    dump: (scored[0] as { dump: NatDump }).dump,
    problem: {
      source: "ssh",
      message: `no kube-proxy rules (KUBE-* chains, nft table kube-proxy) in any nat table read (${readable.map((r) => r.candidate.command).join(", ")})`,
      hint:
        "kube-proxy's rules are not on this node: if the other nodes have KUBE-* chains, they were flushed here or kube-proxy stopped on this node (restart its pod: kubectl -n kube-system delete pod kube-proxy-<node>); if no node has them, kube-proxy does not run at all (GKE Dataplane V2 replaces it; the program pins LEGACY_DATAPATH)",
    },
  };
}

export function natHint(results: CommandResult[]): string {
  const stderr = results.map((r) => r?.stderr ?? "").join("\n");
  if (/password is required|a terminal is required/.test(stderr)) return "the SSH user needs passwordless sudo (GKE gives it to the user of the metadata ssh-keys entry)";
  if (/Permission denied|must be root|Operation not permitted/i.test(stderr)) return "reading iptables needs root: log in as root or as a user with passwordless sudo";
  if (/not found/.test(stderr)) return "iptables-save is not installed on the node";
  return "run the command by hand on the node to see why it fails";
}

export const firstLine = (text: string | undefined) => (text ?? "").trim().split("\n")[0] ?? "";

// ---------------------------------------------------------------- compressed transfer

/** Marks the wrapped command's own exit status on stderr (the pipeline's status is base64's). */
const COMPRESSED_RC = "@@gip-rc ";

/**
 * A dump command whose output crosses the network gzip'ed (a 20 MB iptables-save is ~1 MB gzip'ed),
 * base64 so that both transports carry it as text (the IAP one frames outputs in one text stream);
 * plain where the node lacks gzip or base64. The command's own exit status goes to stderr after a
 * marker; decodeCompressed undoes all of it.
 */
export function compressedCommand(command: string): string {
  return `if command -v gzip >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then { ( ${command} ); echo "${COMPRESSED_RC}$?" >&2; } | gzip -1 | base64; else ${command}; fi`;
}

/** A compressedCommand's result as the bare command's: its text, its stderr, its exit status. Others pass through. */
export function decodeCompressed(result: CommandResult): CommandResult {
  const m = /(?:^|\n)@@gip-rc (\d+)\n?$/.exec(result.stderr);
  if (!m) return result;
  // the newline before the marker ends the command's own last stderr line
  const stderr = result.stderr.slice(0, m[0].startsWith("\n") ? m.index + 1 : m.index);
  const code = Number(m[1]);
  if (result.code !== 0) return { code: result.code, stdout: "", stderr: `${stderr}${stderr ? "\n" : ""}gzip or base64 failed on the node (exit ${result.code})` };
  try {
    return { code, stdout: gunzipSync(Buffer.from(result.stdout, "base64")).toString("utf8"), stderr };
  } catch (error) {
    return { code: null, stdout: "", stderr: `${stderr}${stderr ? "\n" : ""}the compressed output could not be read (${(error as Error).message}): the transfer was cut` };
  }
}

// ---------------------------------------------------------------- one node's round of commands

/** The commands of one node's round, in the order readNodeOutputs expects their results. */
export interface NodeRound {
  nat: NatCandidate[];
  probes: ProbeRequest[];
  commands: string[];
}

/**
 * Everything a node is asked in one round: the nat/filter dumps (every backend), addresses, sockets,
 * ip_forward and, when there are probes, one command sending them all.
 */
export function nodeRound(user: string, probes: ProbeRequest[]): NodeRound {
  const nat = natCandidates(user, false);
  const commands = [...nat.map((c) => compressedCommand(c.command)), addressCommand(), listenerCommand(user), ipForwardCommand(), ...(probes.length > 0 ? [probeCommand(probes)] : [])];
  return { nat, probes, commands };
}

/** The node facts read from one round's results, and a Problem (subject = the node) per output that failed. */
export type NodeOutputs = Pick<NodeModel, "nat" | "addresses" | "listeners" | "forwarding" | "probes">;

/**
 * One round's results (same order as round.commands) -> the node's facts. The nat dump is the
 * candidate holding kube-proxy's rules (chooseNatDump); the filter table comes from the same
 * backend (readForwarding). A failed command is a Problem naming it, never an empty list.
 */
export function readNodeOutputs(round: NodeRound, results: CommandResult[], subject: string, focus?: ServiceFocus): { outputs: NodeOutputs; problems: Problem[] } {
  const { nat, probes, commands } = round;
  const outputs: NodeOutputs = {};
  const problems: Problem[] = [];
  results = results.map((r, i) => (i < nat.length ? decodeCompressed(r) : r));
  const choice = chooseNatDump(nat, results.slice(0, nat.length));
  if (choice.dump && focus) choice.dump = reduceDump(choice.dump, focus);
  if (choice.dump) outputs.nat = choice.dump;
  if (choice.problem) problems.push({ ...choice.problem, subject });

  const addr = results[nat.length] as CommandResult;
  if (addr.code === 0) outputs.addresses = parseIpAddr(addr.stdout);
  else problems.push(commandProblem(subject, commands[nat.length] as string, addr));

  const listen = results[nat.length + 1] as CommandResult;
  if (listen.code === 0) outputs.listeners = parseSsListeners(listen.stdout);
  else problems.push(commandProblem(subject, commands[nat.length + 1] as string, listen));

  outputs.forwarding = readForwarding(nat, results, choice.dump, focus);
  const ipForward = results[nat.length + 2] as CommandResult;
  if (outputs.forwarding.ipForward === undefined) problems.push(commandProblem(subject, commands[nat.length + 2] as string, ipForward));
  if (probes.length > 0) outputs.probes = parseProbeOutput(results[nat.length + 3] as CommandResult, probes);
  return { outputs, problems };
}

/**
 * The filter table from the same backend as the chosen nat dump (the same `iptables-save` output:
 * a whole dump holds every table), or from the default iptables-save when kube-proxy's rules are
 * in its own nft table; and net.ipv4.ip_forward.
 */
function readForwarding(nat: NatCandidate[], results: CommandResult[], chosen: NatDump | undefined, focus: ServiceFocus | undefined): ForwardingModel {
  const forwarding: ForwardingModel = {};
  const ipForward = results[nat.length + 2];
  const value = ipForward?.code === 0 ? ipForward.stdout.trim() : undefined;
  if (value === "1" || value === "0") forwarding.ipForward = value === "1";
  let source: NatDump | undefined;
  if (chosen && chosen.backend !== "nft-native") source = chosen;
  else {
    const first = results[0];
    if (first?.code === 0) {
      source = { command: nat[0]!.command, backend: iptablesSaveBackend(first.stdout), text: first.stdout };
      if (focus) source = reduceDump(source, focus);
    }
  }
  if (source) forwarding.filter = filterTable(source);
  return forwarding;
}

/**
 * The `*filter` table of a dump as a dump of its own. Its line numbers count from the `*filter`
 * line, whether or not the dump was cut down (lineNumbers then carry them), so the evidence reads
 * the same either way.
 */
export function filterTable(dump: NatDump): NatDump {
  const text = filterSection(dump.text);
  const filter: NatDump = { command: dump.command, backend: dump.backend, text };
  if (dump.lineNumbers && text !== "") {
    const lines = dump.text.split("\n");
    const start = lines.findIndex((l) => l.trim() === "*filter");
    const count = text.split("\n").length - 1;
    const first = dump.lineNumbers[start] as number;
    filter.lineNumbers = dump.lineNumbers.slice(start, start + count).map((n) => n - first + 1);
  }
  return filter;
}

/** A node command that failed, as a Problem with the hint its stderr suggests. */
export function commandProblem(subject: string, command: string, result: CommandResult): Problem {
  return {
    source: "ssh",
    subject,
    message: `\`${command}\` failed (${result.code === null ? "not run" : `exit ${result.code}`}): ${firstLine(result.stderr)}`,
    hint: natHint([result]),
  };
}
