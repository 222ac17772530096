// The node side of the path, read over SSH: the nat table kube-proxy wrote, the addresses on the
// node's interfaces and the listening TCP sockets. All nodes are read at once, one SSH connection
// per node, the commands running side by side as exec channels on that connection.
//
// Host keys are always verified: a node without known host keys, or offering another key, is
// refused and reported, never read. An unreachable node becomes `reachable: false` plus a
// Problem; the other nodes carry on. The private key is only handed to ssh2 (or, for IAP, to a
// 0600 file in a private temp dir removed afterwards); it is never logged.
//
// Transports: "direct" and "lab" connect with ssh2 to target.address; "iap" runs one
// `gcloud compute ssh --tunnel-through-iap --plain` per node (ssh checking the host key against
// the same accepted keys) with all commands in one remote script, outputs separated by markers.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, utils as sshUtils, type ConnectConfig } from "ssh2";
import type { InterfaceAddress, ListeningSocket, NatDump, NodeModel, Problem } from "../model";
import type { NodeTarget, NodesResult, Progress, SshOptions } from "./types";

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

export function addressCommand(): string {
  return "ip -o addr show";
}

/** `-p` names the listening process; it needs root, hence sudo. */
export function listenerCommand(user: string): string {
  return `${sudoPrefix(user)}ss -Hltnp`;
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
  return text.split("\n").filter((l) => l.startsWith("-A KUBE-") || /^:KUBE-/.test(l)).length;
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
    const errors = results.map((r, i) => `${candidates[i]?.command}: ${firstLine(r?.stderr) || `exit ${r?.code}`}`);
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
      hint: "kube-proxy does not seem to run on this node: GKE Dataplane V2 (eBPF) replaces it; the program pins the LEGACY_DATAPATH so the article's iptables path exists",
    },
  };
}

function natHint(results: CommandResult[]): string {
  const stderr = results.map((r) => r?.stderr ?? "").join("\n");
  if (/password is required|a terminal is required/.test(stderr)) return "the SSH user needs passwordless sudo (GKE gives it to the user of the metadata ssh-keys entry)";
  if (/Permission denied|must be root|Operation not permitted/i.test(stderr)) return "reading iptables needs root: log in as root or as a user with passwordless sudo";
  if (/not found/.test(stderr)) return "iptables-save is not installed on the node";
  return "run the command by hand on the node to see why it fails";
}

const firstLine = (text: string | undefined) => (text ?? "").trim().split("\n")[0] ?? "";

// ---------------------------------------------------------------- host keys (pure)

export interface HostKey {
  type: string;
  /** base64 of the SSH wire-format key blob */
  blob: string;
}

/** "ssh-ed25519 AAAA... comment" -> {type, blob}; undefined when it isn't an OpenSSH public key line. */
export function parseHostKey(line: string): HostKey | undefined {
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
  const inner = wireKeyType(Buffer.from(blob, "base64"));
  // The type is written both in front and inside the blob; a line where they differ is corrupt.
  return inner === type ? { type, blob } : undefined;
}

/** The key type written at the start of an SSH wire-format public key blob. */
export function wireKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** OpenSSH's "SHA256:..." fingerprint of a key blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Whether the key the server offered is one of the accepted ones (same type and same blob). */
export function hostKeyAccepted(offered: Buffer, accepted: HostKey[]): boolean {
  const type = wireKeyType(offered);
  const blob = offered.toString("base64");
  return accepted.some((k) => k.type === type && k.blob === blob);
}

/** Host-key algorithms to offer, from the key types we can verify (so the server shows one of those). */
export function hostKeyAlgorithms(accepted: HostKey[]): string[] {
  const algorithms: string[] = [];
  for (const { type } of accepted) {
    const names = type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
    for (const name of names) if (SUPPORTED_HOST_KEY_ALGORITHMS.has(name) && !algorithms.includes(name)) algorithms.push(name);
  }
  return algorithms;
}

const SUPPORTED_HOST_KEY_ALGORITHMS = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
]);

// ---------------------------------------------------------------- IAP (gcloud) argv (pure)
//
// `--plain` keeps gcloud from managing keys: without it, gcloud adds the key to the PROJECT's
// metadata when it isn't there (the node pool's own ssh-keys don't count) and puts its own ssh
// options first (OpenSSH keeps the first value of an option, so ours would be ignored). With
// --plain, gcloud only opens the IAP tunnel; ssh then checks the host key against a known_hosts
// file written from target.hostKeys, exactly the keys the direct transport accepts.

export interface GcloudSshSpec {
  node: string;
  zone: string;
  project: string;
  user: string;
  /** private key file (0600) */
  keyFile: string;
  /** known_hosts file holding the node's accepted keys under hostKeyAlias */
  knownHostsFile: string;
  hostKeyAlias: string;
  remoteCommand: string;
  connectTimeoutSeconds: number;
}

const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const GCP_PROJECT = /^(?:[a-z][-a-z0-9.]{0,61}:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const UNIX_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
const PLAIN_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** The alias a node's keys are filed under in the verifier's known_hosts. */
export const hostKeyAliasOf = (node: string) => `gip-node-${node}`;

/** known_hosts lines for one node: "<alias> <type> <blob>". */
export function knownHostsText(alias: string, keys: HostKey[]): string {
  return keys.map((k) => `${alias} ${k.type} ${k.blob}\n`).join("");
}

/** The argv (after "gcloud") for one IAP-tunnelled command; names are checked so none can pose as a flag. */
export function gcloudSshArgv(spec: GcloudSshSpec): string[] {
  const bad: string[] = [];
  if (!GCE_NAME.test(spec.node)) bad.push(`node name "${spec.node}" is not a Compute Engine instance name`);
  if (!GCE_NAME.test(spec.zone)) bad.push(`zone "${spec.zone}" is not a zone name like us-central1-a`);
  if (!GCP_PROJECT.test(spec.project)) bad.push(`project "${spec.project}" is not a project id`);
  if (!UNIX_USER.test(spec.user)) bad.push(`user "${spec.user}" is not a valid login name`);
  if (!PLAIN_PATH.test(spec.keyFile)) bad.push(`key file "${spec.keyFile}" must be an absolute path without spaces`);
  if (!PLAIN_PATH.test(spec.knownHostsFile)) bad.push(`known_hosts file "${spec.knownHostsFile}" must be an absolute path without spaces`);
  if (!/^[A-Za-z0-9._-]+$/.test(spec.hostKeyAlias)) bad.push(`host key alias "${spec.hostKeyAlias}" must be letters, digits, ".", "_" or "-"`);
  if (bad.length > 0) throw new Error(`cannot build the gcloud compute ssh command: ${bad.join("; ")}`);
  const sshOption = (option: string) => ["-o", option];
  return [
    "compute",
    "ssh",
    `${spec.user}@${spec.node}`,
    `--zone=${spec.zone}`,
    `--project=${spec.project}`,
    "--tunnel-through-iap",
    "--plain",
    // Ignored by gcloud under --plain (ssh gets StrictHostKeyChecking=yes below); kept so the
    // intent survives if a gcloud version applies it.
    "--strict-host-key-checking=yes",
    // Never prompt: a prompt would hang the verifier.
    "--quiet",
    `--command=${spec.remoteCommand}`,
    "--",
    "-i",
    spec.keyFile,
    ...sshOption("IdentitiesOnly=yes"),
    ...sshOption(`UserKnownHostsFile=${spec.knownHostsFile}`),
    ...sshOption("GlobalKnownHostsFile=/dev/null"),
    ...sshOption(`HostKeyAlias=${spec.hostKeyAlias}`),
    ...sshOption("StrictHostKeyChecking=yes"),
    ...sshOption("CheckHostIP=no"),
    ...sshOption("BatchMode=yes"),
    ...sshOption(`ConnectTimeout=${Math.max(1, Math.ceil(spec.connectTimeoutSeconds))}`),
  ];
}

/**
 * One POSIX-sh script running every command in turn, each output framed by markers carrying a
 * random tag and the exit status, so one IAP session returns all results.
 */
export function combinedScript(commands: string[], tag: string): string {
  return commands
    // Each command in a subshell: an `exit` in one can't end the script before the others ran.
    .map((command, i) => `printf '@@${tag} begin ${i}@@\\n'; ( ${command} ) 2>/dev/null; rc=$?; printf '\\n@@${tag} end ${i} %d@@\\n' "$rc"`)
    .join("\n");
}

/** Splits the combined script's output back into one result per command (missing ones: code null). */
export function splitCombinedOutput(output: string, count: number, tag: string): CommandResult[] {
  const results: CommandResult[] = [];
  for (let i = 0; i < count; i++) {
    const begin = `@@${tag} begin ${i}@@\n`;
    const start = output.indexOf(begin);
    const endMatch = new RegExp(`\\n@@${tag} end ${i} (\\d+)@@`).exec(start >= 0 ? output.slice(start) : "");
    if (start < 0 || !endMatch) {
      results.push({ code: null, stdout: "", stderr: "no output (the session ended early)" });
      continue;
    }
    const body = output.slice(start + begin.length, start + endMatch.index);
    results.push({ code: Number(endMatch[1]), stdout: body, stderr: "" });
  }
  return results;
}

// ---------------------------------------------------------------- sessions

/** Runs a batch of commands on one node over one connection. */
interface NodeSession {
  runAll(commands: string[]): Promise<CommandResult[]>;
  close(): void;
  hostKeyVerified: boolean;
}

class SessionError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly hostKeyMismatch = false,
  ) {
    super(message);
  }
}

function openDirectSession(target: NodeTarget, opts: SshOptions, accepted: HostKey[]): Promise<NodeSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let offered: Buffer | undefined;
    let verified = false;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port ?? 22,
      username: opts.user,
      privateKey: opts.privateKey,
      readyTimeout: opts.timeoutMs,
      algorithms: { serverHostKey: hostKeyAlgorithms(accepted) as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] },
      hostVerifier: (key: Buffer) => {
        offered = key;
        verified = hostKeyAccepted(key, accepted);
        return verified;
      },
    };
    // ssh2 may emit several errors for one failure (e.g. a timeout, then "connection lost") and
    // more after the session is done; every one must have a listener or the process crashes.
    let settled = false;
    client.once("ready", () => {
      settled = true;
      resolve({
        hostKeyVerified: verified,
        close: () => closeClient(client),
        runAll: (commands) => Promise.all(commands.map((command) => execOnClient(client, command, opts.timeoutMs))),
      });
    });
    client.on("error", (error: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.destroy();
      if (offered && !verified) {
        const type = wireKeyType(offered) ?? "unknown";
        reject(
          new SessionError(
            `host key mismatch: ${target.address} offered ${type} ${fingerprint(offered)}, expected one of ${accepted
              .map((k) => `${k.type} ${fingerprint(Buffer.from(k.blob, "base64"))}`)
              .join(", ")}; refusing to connect`,
            "the node may have been re-created (new host keys: read them again from its guest attributes) or this is not the node you think; do not override",
            true,
          ),
        );
        return;
      }
      reject(new SessionError(`cannot connect to ${target.address}:${target.port ?? 22}: ${error.message}`, connectHint(error, opts)));
    });
    try {
      client.connect(config);
    } catch (error) {
      reject(new SessionError(`cannot start SSH to ${target.address}: ${(error as Error).message}`, "check the private key and the target address"));
    }
  });
}

/**
 * Ends the connection politely, then drops the socket if the server hasn't closed it within a
 * second: a node that vanished mid-goodbye must not keep the verifier's process alive.
 */
function closeClient(client: Client): void {
  const timer = setTimeout(() => client.destroy(), 1000);
  timer.unref();
  client.once("close", () => clearTimeout(timer));
  client.end();
}

function connectHint(error: Error & { level?: string; code?: string }, opts: SshOptions): string {
  if (error.level === "client-authentication") return `the node refused the key for user "${opts.user}": is the public key in the node's metadata ssh-keys (user:key)?`;
  if (error.code === "ECONNREFUSED") return "nothing listens on the SSH port: is sshd running, is it the right address?";
  if (error.code === "EHOSTUNREACH" || error.code === "ENETUNREACH") return "no route to the node: check the address and the network";
  if (/Timed out/i.test(error.message)) return "no answer in time: a firewall rule allowing tcp:22 from your address (or the IAP range with --transport iap) may be missing";
  return "check the address, the firewall for tcp:22 and the node's state";
}

function execOnClient(client: Client, command: string, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    client.exec(command, (error, stream) => {
      if (error) return resolve({ code: null, stdout: "", stderr: `cannot open a channel: ${error.message}` });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let code: number | null = null;
      const timer = setTimeout(() => {
        stream.close();
        resolve({ code: null, stdout: Buffer.concat(out).toString("utf8"), stderr: `timed out after ${timeoutMs} ms` });
      }, timeoutMs);
      stream.on("data", (d: Buffer) => out.push(d));
      stream.stderr.on("data", (d: Buffer) => err.push(d));
      stream.on("exit", (status: number | null) => {
        code = status;
      });
      stream.on("close", () => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
      });
    });
  });
}

/** IAP: no long-lived connection; runAll makes one gcloud call running all commands. */
function iapSession(target: NodeTarget, opts: SshOptions, files: TemporaryFiles, accepted: HostKey[]): NodeSession {
  const session: NodeSession = {
    hostKeyVerified: false,
    close: () => undefined,
    runAll: async (commands) => {
      const tag = `gip${randomBytes(6).toString("hex")}`;
      const hostKeyAlias = hostKeyAliasOf(target.name);
      const argv = gcloudSshArgv({
        node: target.name,
        zone: target.zone ?? "",
        project: opts.project ?? "",
        user: opts.user,
        keyFile: files.keyFile,
        knownHostsFile: files.writeKnownHosts(target.name, knownHostsText(hostKeyAlias, accepted)),
        hostKeyAlias,
        remoteCommand: combinedScript(commands, tag),
        connectTimeoutSeconds: opts.timeoutMs / 1000,
      });
      const result = await runGcloud(argv, opts.timeoutMs * 2);
      if (result.code !== 0) {
        const stderr = result.stderr.trim();
        const mismatch = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(stderr);
        throw new SessionError(
          `gcloud compute ssh ${target.name} failed (exit ${result.code}): ${stderr.split("\n").slice(-3).join(" | ")}`,
          mismatch
            ? "the node offered a host key that is not among the keys read from its guest attributes: it may have been re-created, or it is not the node you think; do not override"
            : "check `gcloud auth login`, the IAP firewall rule (35.235.240.0/20 on tcp:22), roles/iap.tunnelResourceAccessor and that the key is in the nodes' ssh-keys metadata",
          mismatch,
        );
      }
      // ssh ran with StrictHostKeyChecking=yes against the accepted keys only: getting here means verified.
      session.hostKeyVerified = true;
      return splitCombinedOutput(result.stdout, commands.length, tag);
    },
  };
  return session;
}

function runGcloud(argv: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    // env passed explicitly: the PATH (and CLOUDSDK_* settings) of this process as it is now.
    const child = spawn("gcloud", argv, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: "", stderr: `cannot run gcloud: ${error.message} (install the Google Cloud CLI, or use --transport direct)` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? null, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") + (signal ? `\nkilled (${signal}) after ${timeoutMs} ms` : "") });
    });
  });
}

interface TemporaryFiles {
  keyFile: string;
  /** writes one node's known_hosts file and returns its path */
  writeKnownHosts(node: string, text: string): string;
  cleanup(): void;
}

/** For IAP: the private key (0600) and known_hosts files in a private (0700) temp dir, removed by cleanup(). */
function writeTemporaryFiles(privateKey: string): TemporaryFiles {
  const dir = mkdtempSync(join(tmpdir(), "gip-ssh-"));
  const keyFile = join(dir, "id_node");
  writeFileSync(keyFile, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
  return {
    keyFile,
    writeKnownHosts: (node, text) => {
      const file = join(dir, `known_hosts.${node}`);
      writeFileSync(file, text, { mode: 0o600 });
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------- per-node collection

interface Prepared {
  problems: Problem[];
  open?: (target: NodeTarget, accepted: HostKey[]) => Promise<NodeSession>;
  cleanup(): void;
}

/** Checks the options once for all nodes; one bad option is one Problem per run, not per node. */
function prepare(opts: SshOptions): Prepared {
  const problems: Problem[] = [];
  const parsed = sshUtils.parseKey(opts.privateKey);
  if (parsed instanceof Error) {
    problems.push({
      source: "input",
      subject: "sshPrivateKey",
      message: `the SSH private key cannot be read (${parsed.message.replace(/\n.*/s, "")})`,
      hint: "pass the OpenSSH private key from the stack output sshPrivateKey (unencrypted)",
    });
  }
  if (!UNIX_USER.test(opts.user)) problems.push({ source: "input", subject: "sshUser", message: `"${opts.user}" is not a valid login name`, hint: "use the stack output sshUser" });
  if (opts.transport === "iap" && !opts.project) problems.push({ source: "input", subject: "project", message: "IAP transport needs the project", hint: "pass the stack output project" });
  if (!(opts.timeoutMs > 0)) problems.push({ source: "input", subject: "timeoutMs", message: `timeout ${opts.timeoutMs} ms is not a positive number`, hint: "e.g. 15000" });
  if (problems.length > 0) return { problems, cleanup: () => undefined };

  if (opts.transport === "iap") {
    const files = writeTemporaryFiles(opts.privateKey);
    return { problems, open: async (target, accepted) => iapSession(target, opts, files, accepted), cleanup: files.cleanup };
  }
  return { problems, open: (target, accepted) => openDirectSession(target, opts, accepted), cleanup: () => undefined };
}

function baseNode(target: NodeTarget, opts: SshOptions): NodeModel {
  const node: NodeModel = { name: target.name, transport: opts.transport, reachable: false, sshAddress: target.address };
  if (target.internalIp) node.internalIp = target.internalIp;
  if (target.externalIp) node.externalIp = target.externalIp;
  return node;
}

/** Accepted host keys of a target, or a Problem saying why it can't be verified. */
function acceptedKeys(target: NodeTarget, transport: SshOptions["transport"]): { keys: HostKey[]; problem?: Problem } {
  const keys = target.hostKeys.map(parseHostKey).filter((k): k is HostKey => k !== undefined);
  // ssh2 (direct, lab) verifies only key types it can negotiate; OpenSSH (iap) takes any.
  const usable = transport === "iap" ? keys : keys.filter((k) => hostKeyAlgorithms([k]).length > 0);
  if (usable.length > 0) return { keys: usable };
  return {
    keys: [],
    problem: {
      source: "ssh",
      subject: target.name,
      message:
        target.hostKeys.length === 0
          ? "no host keys known for this node; refusing to connect without verifying it"
          : `none of the ${target.hostKeys.length} host key(s) given is a usable OpenSSH public key line ("ssh-ed25519 AAAA..."); refusing to connect`,
      hint: "host keys come from the node's guest attributes (hostkeys/*; the node pool sets enable-guest-attributes=TRUE); in the lab they come from the lab's sshd",
    },
  };
}

interface NodeReading {
  node: NodeModel;
  problems: Problem[];
}

async function readNode(target: NodeTarget, opts: SshOptions, prepared: Prepared, progress: Progress): Promise<NodeReading> {
  const node = baseNode(target, opts);
  const hop = `ssh ${target.name}`;
  progress.hop(hop, "start", `${opts.transport} ${target.address}`);
  const { keys, problem } = acceptedKeys(target, opts.transport);
  if (problem) {
    node.hostKeyVerified = false;
    progress.hop(hop, "fail", problem.message);
    return { node, problems: [problem] };
  }
  let session: NodeSession | undefined;
  try {
    session = await (prepared.open as NonNullable<Prepared["open"]>)(target, keys);
    const user = opts.user;
    const nat = natCandidates(user, false);
    const commands = [...nat.map((c) => c.command), addressCommand(), listenerCommand(user)];
    const results = await session.runAll(commands);
    node.reachable = true;
    node.hostKeyVerified = session.hostKeyVerified;
    const problems: Problem[] = [];

    const choice = chooseNatDump(nat, results.slice(0, nat.length));
    if (choice.dump) node.nat = choice.dump;
    if (choice.problem) problems.push({ ...choice.problem, subject: target.name });

    const addr = results[nat.length] as CommandResult;
    if (addr.code === 0) node.addresses = parseIpAddr(addr.stdout);
    else problems.push(commandProblem(target, commands[nat.length] as string, addr));

    const listen = results[nat.length + 1] as CommandResult;
    if (listen.code === 0) node.listeners = parseSsListeners(listen.stdout);
    else problems.push(commandProblem(target, commands[nat.length + 1] as string, listen));

    progress.hop(hop, problems.length === 0 ? "ok" : "fail", node.nat ? `nat table: ${node.nat.command} (${node.nat.backend} backend)` : "no nat table");
    return { node, problems };
  } catch (error) {
    const e = error instanceof SessionError ? error : new SessionError((error as Error).message, "check the address and the SSH options");
    node.hostKeyVerified = e.hostKeyMismatch ? false : undefined;
    if (node.hostKeyVerified === undefined) delete node.hostKeyVerified;
    progress.hop(hop, "fail", e.message);
    return { node, problems: [{ source: "ssh", subject: target.name, message: e.message, hint: e.hint }] };
  } finally {
    session?.close();
  }
}

function commandProblem(target: NodeTarget, command: string, result: CommandResult): Problem {
  return {
    source: "ssh",
    subject: target.name,
    message: `\`${command}\` failed (${result.code === null ? "not run" : `exit ${result.code}`}): ${firstLine(result.stderr)}`,
    hint: natHint([result]),
  };
}

/** Reads every node at once; each node's failure is its own Problem, the others still report. */
export async function collectNodes(targets: NodeTarget[], opts: SshOptions, progress: Progress): Promise<NodesResult> {
  const prepared = prepare(opts);
  try {
    if (!prepared.open) {
      return {
        nodes: targets.map((t) => baseNode(t, opts)),
        problems: prepared.problems,
      };
    }
    const readings = await Promise.all(targets.map((t) => readNode(t, opts, prepared, progress)));
    return { nodes: readings.map((r) => r.node), problems: readings.flatMap((r) => r.problems) };
  } finally {
    prepared.cleanup();
  }
}

/**
 * `iptables-save -c` on each node (the backend is chosen again the same way, so it is the one
 * collectNodes used), for the per-rule counters before and after the requests.
 */
export async function readNatCounters(targets: NodeTarget[], opts: SshOptions): Promise<Map<string, NatDump | Problem>> {
  const result = new Map<string, NatDump | Problem>();
  const prepared = prepare(opts);
  try {
    if (!prepared.open) {
      for (const t of targets) result.set(t.name, { ...(prepared.problems[0] as Problem), subject: t.name });
      return result;
    }
    await Promise.all(
      targets.map(async (target) => {
        const { keys, problem } = acceptedKeys(target, opts.transport);
        if (problem) return void result.set(target.name, problem);
        let session: NodeSession | undefined;
        try {
          session = await (prepared.open as NonNullable<Prepared["open"]>)(target, keys);
          const candidates = natCandidates(opts.user, true);
          const choice = chooseNatDump(candidates, await session.runAll(candidates.map((c) => c.command)));
          result.set(target.name, choice.dump ?? { ...(choice.problem as Omit<Problem, "subject">), subject: target.name });
        } catch (error) {
          const e = error instanceof SessionError ? error : new SessionError((error as Error).message, "check the address and the SSH options");
          result.set(target.name, { source: "ssh", subject: target.name, message: e.message, hint: e.hint });
        } finally {
          session?.close();
        }
      }),
    );
    return result;
  } finally {
    prepared.cleanup();
  }
}
