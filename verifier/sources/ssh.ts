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
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, utils as sshUtils, type ConnectConfig } from "ssh2";
import type { NatDump, NodeModel, Problem } from "../model";
import { fingerprint, fingerprintMatches, normalizeFingerprint, parseHostKey, wireKeyType, type HostKey } from "./host-keys";
import { chooseNatDump, compressedCommand, counterCandidates, decodeCompressed, nodeRound, readNodeOutputs, type CommandResult } from "./node-outputs";
import { reduceDump } from "./node-reduce";
import type { NodeTarget, NodesResult, Progress, SshOptions } from "./types";
import { DEFAULT_CONCURRENCY } from "./types";

// The defaults live with SshOptions (types.ts), where the CLIs read them without loading ssh2.
export { DEFAULT_CONCURRENCY };

// The node commands and their parsers live in node-outputs.ts; re-exported for the SSH source's users.
export {
  addressCommand,
  chooseNatDump,
  classifyProbe,
  filterSection,
  iptablesSaveBackend,
  ipForwardCommand,
  kubeProxyRuleCount,
  listenerCommand,
  natCandidates,
  parseIpAddr,
  parseProbeOutput,
  parseSsListeners,
  planProbes,
  probeCommand,
  probeDisplayCommand,
  PROBE_CONNECT_TIMEOUT_S,
  PROBE_MAX_TIME_S,
  type CommandResult,
  type NatCandidate,
  type NatChoice,
} from "./node-outputs";


// ---------------------------------------------------------------- host keys (pure)

// Key lines and fingerprints are host-keys.ts's; re-exported for the SSH source's users.
export { fingerprint, parseHostKey, wireKeyType, type HostKey } from "./host-keys";

/**
 * What a node's host key is checked against: full keys (guest attributes, or the serial console's
 * keys block), fingerprints (the serial console's fingerprints block), or nothing but the user's
 * explicit --trust-host-key-on-first-use.
 */
export interface AcceptedHostKeys {
  keys: HostKey[];
  /** normalized "SHA256:..." / "MD5:..." */
  fingerprints: string[];
  firstUse: boolean;
}

/** How the offered key passed, or undefined when it did not. */
export function offeredKeyAccepted(offered: Buffer, accepted: AcceptedHostKeys): "key" | "fingerprint" | "first-use" | undefined {
  if (hostKeyAccepted(offered, accepted.keys)) return "key";
  if (fingerprintMatches(offered, accepted.fingerprints)) return "fingerprint";
  if (accepted.firstUse && accepted.keys.length === 0 && accepted.fingerprints.length === 0) return "first-use";
  return undefined;
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
  /**
   * For nodes known only by fingerprints (or trusted on first use): a script (absolute path) that
   * OpenSSH (>= 8.5) runs as KnownHostsCommand with the offered key, and that prints a known_hosts
   * line only for a key it accepts (knownHostsScript).
   */
  knownHostsScript?: string;
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

/**
 * The KnownHostsCommand script for one node (POSIX sh; args: %I %f %t %K). It appends every key
 * ssh is offered to `seenFile` (so the verifier can name it), and prints "<alias> <type> <key>",
 * the line that lets ssh accept the key, only when the key's SHA256 fingerprint is a line of
 * `fingerprintFile`, or for any key when `firstUse` is set. ssh calls it once without a key (%I =
 * ORDER, to order its algorithms): nothing is printed then.
 */
export function knownHostsScriptText(alias: string, fingerprintFile: string, seenFile: string, firstUse: boolean): string {
  return [
    "#!/bin/sh",
    '[ -n "$4" ] || exit 0',
    `printf '%s %s\\n' "$3" "$4" >> '${seenFile}'`,
    firstUse
      ? `printf '${alias} %s %s\\n' "$3" "$4"`
      : `if grep -qxF -- "$2" '${fingerprintFile}'; then printf '${alias} %s %s\\n' "$3" "$4"; fi`,
    "",
  ].join("\n");
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
  if (spec.knownHostsScript !== undefined && !PLAIN_PATH.test(spec.knownHostsScript)) bad.push(`known-hosts script "${spec.knownHostsScript}" must be an absolute path without spaces`);
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
    // %I why ssh asks, %f the offered key's SHA256 fingerprint, %t its type, %K its base64 blob.
    ...(spec.knownHostsScript ? sshOption(`KnownHostsCommand=/bin/sh ${spec.knownHostsScript} %I %f %t %K`) : []),
    ...sshOption("GlobalKnownHostsFile=/dev/null"),
    ...sshOption(`HostKeyAlias=${spec.hostKeyAlias}`),
    ...sshOption("StrictHostKeyChecking=yes"),
    ...sshOption("CheckHostIP=no"),
    ...sshOption("BatchMode=yes"),
    ...sshOption(`ConnectTimeout=${Math.max(1, Math.ceil(spec.connectTimeoutSeconds))}`),
  ];
}

/**
 * One POSIX-sh script running every command in turn, each framed by markers carrying a random tag:
 * `begin i`, the command's stdout, `stderr i`, its stderr, `end i <exit status>`. One IAP session
 * returns all results over one stdout. Stderr is kept (captured in a shell variable, so nothing is
 * written on the node) because the hints need it: "sudo: a password is required" and friends.
 */
export function combinedScript(commands: string[], tag: string): string {
  // fd 3 = the session's stdout. Inside $( ): stderr goes to the substitution, stdout to fd 3.
  // The subshell keeps an `exit` in one command from ending the script; the assignment's status
  // is the command's.
  const body = commands.map(
    (command, i) =>
      `printf '@@${tag} begin ${i}@@\\n'; err=$( ( ${command} ) 2>&1 1>&3 3>&- ); rc=$?; ` +
      `printf '\\n@@${tag} stderr ${i}@@\\n%s' "$err"; printf '\\n@@${tag} end ${i} %d@@\\n' "$rc"`,
  );
  return ["exec 3>&1", ...body].join("\n");
}

/** Splits the combined script's output back into one result per command (missing ones: code null). */
export function splitCombinedOutput(output: string, count: number, tag: string): CommandResult[] {
  const results: CommandResult[] = [];
  for (let i = 0; i < count; i++) {
    const begin = `@@${tag} begin ${i}@@\n`;
    const start = output.indexOf(begin);
    const rest = start >= 0 ? output.slice(start) : "";
    const endMatch = new RegExp(`\\n@@${tag} end ${i} (\\d+)@@`).exec(rest);
    if (start < 0 || !endMatch) {
      results.push({ code: null, stdout: "", stderr: "no output (the session ended early)" });
      continue;
    }
    const framed = rest.slice(begin.length, endMatch.index);
    const stderrMarker = `\n@@${tag} stderr ${i}@@\n`;
    const split = framed.lastIndexOf(stderrMarker);
    results.push(
      split >= 0
        ? { code: Number(endMatch[1]), stdout: framed.slice(0, split), stderr: framed.slice(split + stderrMarker.length) }
        : { code: Number(endMatch[1]), stdout: framed, stderr: "" },
    );
  }
  return results;
}

// ---------------------------------------------------------------- sessions

/** Runs a batch of commands on one node over one connection. */
interface NodeSession {
  runAll(commands: string[]): Promise<CommandResult[]>;
  close(): void;
  hostKeyVerified: boolean;
  /** the key blob the node offered, when known */
  offeredKey?: Buffer;
  /** how it passed: a listed key, a listed fingerprint, or trusted on first use */
  hostKeyMatch?: "key" | "fingerprint" | "first-use";
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

/** "<type> SHA256:..." of a key blob, the way the reports name a host key. */
const describeKey = (blob: Buffer) => `${wireKeyType(blob) ?? "unknown"} ${fingerprint(blob)}`;

/** What the node's key was checked against, for the mismatch message. */
function expectedText(accepted: AcceptedHostKeys): string {
  return [...accepted.keys.map((k) => describeKey(Buffer.from(k.blob, "base64"))), ...accepted.fingerprints].join(", ");
}

function openDirectSession(target: NodeTarget, opts: SshOptions, accepted: AcceptedHostKeys): Promise<NodeSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let offered: Buffer | undefined;
    let verified = false;
    let match: NodeSession["hostKeyMatch"];
    // Full keys only: offer just their algorithms, so the node shows one of them. With fingerprints
    // (their types unknown to ssh2) or first use, ssh2's default list.
    const onlyKeys = accepted.fingerprints.length === 0 && !accepted.firstUse;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port ?? 22,
      username: opts.user,
      privateKey: opts.privateKey,
      readyTimeout: opts.timeoutMs,
      ...(onlyKeys ? { algorithms: { serverHostKey: hostKeyAlgorithms(accepted.keys) as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] } } : {}),
      hostVerifier: (key: Buffer) => {
        offered = key;
        match = offeredKeyAccepted(key, accepted);
        verified = match !== undefined;
        return verified;
      },
    };
    // ssh2 may emit several errors for one failure (e.g. a timeout, then "connection lost") and
    // more after the session is done; every one must have a listener or the process crashes.
    let settled = false;
    client.once("ready", () => {
      settled = true;
      resolve({
        hostKeyVerified: verified && match !== "first-use",
        offeredKey: offered,
        hostKeyMatch: match,
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
            `host key mismatch: ${target.address} offered ${type} ${fingerprint(offered)}, expected one of ${expectedText(accepted)}; refusing to connect`,
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
function iapSession(target: NodeTarget, opts: SshOptions, files: TemporaryFiles, accepted: AcceptedHostKeys): NodeSession {
  const session: NodeSession = {
    hostKeyVerified: false,
    close: () => undefined,
    runAll: async (commands) => {
      const tag = `gip${randomBytes(6).toString("hex")}`;
      const hostKeyAlias = hostKeyAliasOf(target.name);
      // Fingerprints (SHA256: what ssh's %f gives) or first use: decided by the KnownHostsCommand script.
      const byScript = accepted.fingerprints.length > 0 || (accepted.firstUse && accepted.keys.length === 0);
      const script = byScript ? files.writeKnownHostsScript(target.name, hostKeyAlias, accepted) : undefined;
      const argv = gcloudSshArgv({
        node: target.name,
        zone: target.zone ?? "",
        project: opts.project ?? "",
        user: opts.user,
        keyFile: files.keyFile,
        knownHostsFile: files.writeKnownHosts(target.name, knownHostsText(hostKeyAlias, accepted.keys)),
        hostKeyAlias,
        knownHostsScript: script?.path,
        remoteCommand: combinedScript(commands, tag),
        connectTimeoutSeconds: opts.timeoutMs / 1000,
      });
      const result = await runGcloud(argv, opts.timeoutMs * 2);
      const seen = script?.seen();
      if (seen) session.offeredKey = seen;
      if (result.code !== 0) {
        const stderr = result.stderr.trim();
        const mismatch = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(stderr);
        const offeredText = seen ? ` (the node offered ${describeKey(seen)}, expected one of ${expectedText(accepted)})` : "";
        throw new SessionError(
          `gcloud compute ssh ${target.name} failed (exit ${result.code}): ${stderr.split("\n").slice(-3).join(" | ")}${mismatch ? offeredText : ""}`,
          /knownhostscommand/i.test(stderr)
            ? "this node is known by fingerprints only, which needs OpenSSH 8.5 or newer for its KnownHostsCommand option (ssh -V); or use --transport direct"
            : mismatch
            ? "the node offered a host key that is not among the keys (or fingerprints) read for it: it may have been re-created, or it is not the node you think; do not override"
            : "check `gcloud auth login`, the IAP firewall rule (35.235.240.0/20 on tcp:22), roles/iap.tunnelResourceAccessor and that the key is in the nodes' ssh-keys metadata",
          mismatch,
        );
      }
      // ssh ran with StrictHostKeyChecking=yes against the accepted keys only: getting here means
      // verified, unless the only "check" was trusting the first key seen.
      const match: NodeSession["hostKeyMatch"] = !byScript ? "key" : accepted.fingerprints.length > 0 ? "fingerprint" : "first-use";
      session.hostKeyMatch = match;
      session.hostKeyVerified = match !== "first-use";
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
  /** writes one node's KnownHostsCommand script (and its fingerprint list); seen() reads the key ssh was offered */
  writeKnownHostsScript(node: string, alias: string, accepted: AcceptedHostKeys): { path: string; seen(): Buffer | undefined };
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
    writeKnownHostsScript: (node, alias, accepted) => {
      const path = join(dir, `known_hosts_command.${node}.sh`);
      const fingerprintFile = join(dir, `fingerprints.${node}`);
      const seenFile = join(dir, `offered.${node}`);
      // ssh's %f is SHA256 (its default FingerprintHash); MD5 ones are matched by the direct transport only.
      writeFileSync(fingerprintFile, accepted.fingerprints.filter((f) => f.startsWith("SHA256:")).map((f) => `${f}\n`).join(""), { mode: 0o600 });
      writeFileSync(path, knownHostsScriptText(alias, fingerprintFile, seenFile, accepted.firstUse && accepted.fingerprints.length === 0), { mode: 0o700 });
      rmSync(seenFile, { force: true });
      return {
        path,
        seen: () => {
          if (!existsSync(seenFile)) return undefined;
          const lines = readFileSync(seenFile, "utf8").trim().split("\n").filter(Boolean);
          const last = lines.length > 0 ? parseHostKey(lines[lines.length - 1] as string) : undefined;
          return last ? Buffer.from(last.blob, "base64") : undefined;
        },
      };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------- per-node collection

interface Prepared {
  problems: Problem[];
  open?: (target: NodeTarget, accepted: AcceptedHostKeys) => Promise<NodeSession>;
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

/**
 * What a target's offered host key will be checked against, or a Problem saying why it cannot be.
 * Keys first (guest attributes or the serial console's keys block), then fingerprints (the serial
 * console's fingerprints block); with neither, only opts.trustHostKeyOnFirstUse lets it through.
 */
function acceptedKeys(target: NodeTarget, opts: SshOptions): { accepted: AcceptedHostKeys; problem?: Problem } {
  const transport = opts.transport;
  const keys = target.hostKeys.map(parseHostKey).filter((k): k is HostKey => k !== undefined);
  // ssh2 (direct, lab) verifies only key types it can negotiate; OpenSSH (iap) takes any.
  const usable = transport === "iap" ? keys : keys.filter((k) => hostKeyAlgorithms([k]).length > 0);
  const given = (target.hostKeyFingerprints ?? []).map(normalizeFingerprint).filter((f): f is string => f !== undefined);
  // OpenSSH hands the IAP script a SHA256 fingerprint; MD5 ones can be matched by ssh2 only.
  const fingerprints = transport === "iap" ? given.filter((f) => f.startsWith("SHA256:")) : given;
  const firstUse = opts.trustHostKeyOnFirstUse === true;
  const accepted: AcceptedHostKeys = { keys: usable, fingerprints, firstUse };
  if (usable.length > 0 || fingerprints.length > 0 || firstUse) return { accepted };
  const nothing = target.hostKeys.length === 0 && given.length === 0;
  return {
    accepted,
    problem: {
      source: "ssh",
      subject: target.name,
      message: nothing
        ? "no host keys known for this node; refusing to connect without verifying it"
        : given.length > 0 && fingerprints.length === 0
          ? "only MD5 fingerprints are known for this node, which the IAP transport cannot match; refusing to connect"
          : `none of the ${target.hostKeys.length} host key(s) given is a usable OpenSSH public key line ("ssh-ed25519 AAAA..."); refusing to connect`,
      hint:
        "host keys come from the node's guest attributes (hostkeys/*; the node pool sets enable-guest-attributes=TRUE), else from what it printed on its serial console at first boot; " +
        "if neither has them, --trust-host-key-on-first-use connects to the key the node offers and prints its fingerprint for you to compare (in the lab the keys come from the lab's sshd)" +
        (given.length > 0 && fingerprints.length === 0 ? "; or use --transport direct" : ""),
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
  const { accepted, problem } = acceptedKeys(target, opts);
  if (target.hostKeySource) node.hostKeySource = target.hostKeySource;
  if (problem) {
    node.hostKeyVerified = false;
    progress.hop(hop, "fail", problem.message);
    return { node, problems: [problem] };
  }
  let session: NodeSession | undefined;
  try {
    session = await (prepared.open as NonNullable<Prepared["open"]>)(target, accepted);
    // Everything in one round on the connection already open: nat/filter dumps, addresses,
    // sockets, ip_forward and the probes (all probes share one channel).
    const round = nodeRound(opts.user, target.probes ?? []);
    const results = await session.runAll(round.commands);
    node.reachable = true;
    node.hostKeyVerified = session.hostKeyVerified;
    const problems: Problem[] = [];
    if (session.offeredKey) {
      node.hostKeyFingerprint = describeKey(session.offeredKey);
      // Later sessions (the counters) must meet this very key, whatever let it in the first time.
      if (session.hostKeyMatch !== "key") target.hostKeys = [`${wireKeyType(session.offeredKey)} ${session.offeredKey.toString("base64")}`];
    }
    if (session.hostKeyMatch === "first-use") {
      node.hostKeySource = "first-use";
      const seen = node.hostKeyFingerprint ?? "a key ssh did not report";
      problems.push({
        source: "ssh",
        subject: target.name,
        message: `host key NOT verified: trusted on first use (--trust-host-key-on-first-use): the node offered ${seen}`,
        hint: `compare it with the node's own: gcloud compute instances get-serial-port-output ${target.name}${target.zone ? ` --zone ${target.zone}` : ""} | grep -A8 "BEGIN SSH HOST KEY", or on the node: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`,
      });
      progress.hop(hop, "fail", `host key trusted on first use: ${seen}`);
    }

    const read = readNodeOutputs(round, results, target.name, opts.focus);
    Object.assign(node, read.outputs);
    problems.push(...read.problems);

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

/** The concurrency a run uses: the option when it is a whole number >= 1, else the transport's default. */
export function concurrencyOf(opts: SshOptions): number {
  const c = opts.concurrency;
  return c !== undefined && Number.isInteger(c) && c >= 1 ? c : DEFAULT_CONCURRENCY[opts.transport];
}

/** fn over items, at most `limit` at a time, results in the items' order. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reads every node, concurrencyOf(opts) at a time; each node's failure is its own Problem, the
 * others still report. Progress says "n/N nodes" as nodes finish.
 */
export async function collectNodes(targets: NodeTarget[], opts: SshOptions, progress: Progress): Promise<NodesResult> {
  const prepared = prepare(opts);
  try {
    if (!prepared.open) {
      return {
        nodes: targets.map((t) => baseNode(t, opts)),
        problems: prepared.problems,
      };
    }
    let done = 0;
    const counted: Progress = {
      hop: (name, state, detail) => progress.hop(name, state, state === "start" ? detail : `${++done}/${targets.length} nodes; ${detail ?? ""}`.replace(/; $/, "")),
    };
    const readings = await mapBounded(targets, concurrencyOf(opts), (t) => readNode(t, opts, prepared, counted));
    return { nodes: readings.map((r) => r.node), problems: readings.flatMap((r) => r.problems) };
  } finally {
    prepared.cleanup();
  }
}

/**
 * `iptables-save -c` on each node, for the per-rule counters before and after the requests.
 * `collected`: node name -> the command whose dump collectNodes chose there (NatDump.command);
 * only its counting form runs (counterCandidates). A node not in it gets every candidate, and the
 * backend is chosen again the same way as in collectNodes.
 */
export async function readNatCounters(targets: NodeTarget[], opts: SshOptions, collected?: ReadonlyMap<string, string>): Promise<Map<string, NatDump | Problem>> {
  const result = new Map<string, NatDump | Problem>();
  const prepared = prepare(opts);
  try {
    if (!prepared.open) {
      for (const t of targets) result.set(t.name, { ...(prepared.problems[0] as Problem), subject: t.name });
      return result;
    }
    await mapBounded(
      targets,
      concurrencyOf(opts),
      async (target) => {
        const { accepted, problem } = acceptedKeys(target, opts);
        if (problem) return void result.set(target.name, problem);
        let session: NodeSession | undefined;
        try {
          session = await (prepared.open as NonNullable<Prepared["open"]>)(target, accepted);
          const candidates = counterCandidates(opts.user, collected?.get(target.name));
          const results = await session.runAll(candidates.map((c) => compressedCommand(c.command)));
          const choice = chooseNatDump(candidates, results.map(decodeCompressed));
          if (choice.dump && opts.focus) choice.dump = reduceDump(choice.dump, opts.focus);
          result.set(target.name, choice.dump ?? { ...(choice.problem as Omit<Problem, "subject">), subject: target.name });
        } catch (error) {
          const e = error instanceof SessionError ? error : new SessionError((error as Error).message, "check the address and the SSH options");
          result.set(target.name, { source: "ssh", subject: target.name, message: e.message, hint: e.hint });
        } finally {
          session?.close();
        }
      },
    );
    return result;
  } finally {
    prepared.cleanup();
  }
}
