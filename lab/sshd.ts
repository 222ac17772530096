// OpenSSH's sshd inside a network namespace, standing in for a node's SSH server in the lab and
// in the SSH source's tests. Each instance lives in its own directory: fresh host key, config,
// authorized_keys, pid file and log; nothing of the host's /etc/ssh is read or changed.
//
// Exported API:
//   startSshd(opts: SshdOptions)           -> Promise<SshdInstance>  returns once sshd listens
//     SshdOptions { namespace, listenAddress, port? (22), dir, authorizedKeys, allowUsers?, detached?,
//                   startTimeoutMs?, keepDir?, hideHome? (e.g. "/root": empty tmpfs for sshd's sessions),
//                   ownPids? (a PID namespace of its own, as a node has) }
//     SshdInstance { namespace, address, port, dir, pid, hostPublicKey ("ssh-ed25519 AAAA..."),
//                    logFile, stop(): Promise<void> (kills sshd, removes dir unless keepDir) }
//   stopSshdInDir(dir)                     -> Promise<boolean>       stop an instance started by another
//                                                                     process (reads dir/sshd.pid; not
//                                                                     for ownPids: that file says 1)
//   generateClientKeyPair(comment?)        -> ClientKeyPair          ed25519 in memory, no file:
//     { privateKey: OpenSSH PEM ("-----BEGIN OPENSSH PRIVATE KEY-----"), publicKey: "ssh-ed25519 AAAA... comment" }
//   waitForListener(namespace, address, port, timeoutMs) -> Promise<void>
//   sshdConfigText(settings)               -> string                 the sshd_config written (pure)
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findCommand, killPid, run, spawnInNamespace, tryExecInNamespace, type NamespaceProcess } from "./netns";

export interface SshdOptions {
  namespace: string;
  /** the node's address sshd binds to (no prefix length) */
  listenAddress: string;
  /** default 22 */
  port?: number;
  /** per-instance directory, created with mode 0700; must not be shared between instances */
  dir: string;
  /** OpenSSH public keys allowed to log in ("ssh-ed25519 AAAA... comment") */
  authorizedKeys: string[];
  /** users allowed to log in (AllowUsers); default: any */
  allowUsers?: string[];
  /** keep sshd running after this Node process exits (lab up / lab down); default false */
  detached?: boolean;
  /** default 10 s */
  startTimeoutMs?: number;
  /** leave dir in place on stop() (to read the log); default false */
  keepDir?: boolean;
  /**
   * A home directory (e.g. "/root") to hide behind an empty tmpfs for sshd and its sessions, so
   * their shells start clean like a fresh node's instead of running this machine's dotfiles
   * (bash sources ~/.bashrc for every ssh command). The mount lives only in the mount namespace
   * `ip netns exec` creates for sshd; the host's directory is untouched.
   */
  hideHome?: string;
  /**
   * Run sshd as the first process of a PID namespace of its own (`unshare --pid --fork --kill-child
   * --mount-proc`), so its sessions see the node's processes only, as on a machine of its own:
   * `ss -p` then walks a few processes, not every process of this host (with 50 lab nodes, the
   * other nodes' sshd sessions too). `pid` is then unshare's; stopping it stops everything inside.
   */
  ownPids?: boolean;
}

export interface SshdInstance {
  namespace: string;
  address: string;
  port: number;
  dir: string;
  pid: number;
  /** "ssh-ed25519 AAAA..." (no comment): what a client should accept */
  hostPublicKey: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface SshdSettings {
  listenAddress: string;
  port: number;
  hostKeyFile: string;
  pidFile: string;
  authorizedKeysFile: string;
  allowUsers?: string[];
}

/** The sshd_config for one instance: key-only, no PAM, everything in the instance dir. */
export function sshdConfigText(s: SshdSettings): string {
  const lines = [
    `ListenAddress ${s.listenAddress}:${s.port}`,
    `HostKey ${s.hostKeyFile}`,
    `PidFile ${s.pidFile}`,
    `AuthorizedKeysFile ${s.authorizedKeysFile}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    // The instance dir is root-owned and 0700; StrictModes would also walk parent dirs like /tmp.
    "StrictModes no",
    // The verifier opens several exec channels on one connection.
    "MaxSessions 16",
    "PrintMotd no",
    "LogLevel INFO",
  ];
  if (s.allowUsers && s.allowUsers.length > 0) lines.push(`AllowUsers ${s.allowUsers.join(" ")}`);
  return `${lines.join("\n")}\n`;
}

export async function startSshd(opts: SshdOptions): Promise<SshdInstance> {
  const sshd = findCommand("sshd");
  if (!sshd) throw new Error("sshd not found: install it with apt-get install -y openssh-server");
  if (opts.authorizedKeys.length === 0) throw new Error("startSshd: give at least one authorized public key");
  const port = opts.port ?? 22;

  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  chmodSync(opts.dir, 0o700);
  // sshd refuses to start without its privilege-separation directory (normally made by the
  // openssh-server service unit, which we don't use).
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

  const hostKeyFile = join(opts.dir, "ssh_host_ed25519_key");
  rmSync(hostKeyFile, { force: true });
  rmSync(`${hostKeyFile}.pub`, { force: true });
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `lab-host-${opts.namespace}`, "-f", hostKeyFile]);
  const hostPublicKey = readFileSync(`${hostKeyFile}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");

  const authorizedKeysFile = join(opts.dir, "authorized_keys");
  writeFileSync(authorizedKeysFile, `${opts.authorizedKeys.map((k) => k.trim()).join("\n")}\n`, { mode: 0o600 });
  const pidFile = join(opts.dir, "sshd.pid");
  const configFile = join(opts.dir, "sshd_config");
  writeFileSync(
    configFile,
    sshdConfigText({ listenAddress: opts.listenAddress, port, hostKeyFile, pidFile, authorizedKeysFile, allowUsers: opts.allowUsers }),
    { mode: 0o600 },
  );
  // Catch config mistakes with sshd's own test mode before starting it. -r (no re-exec of sshd for
  // each connection: a fresh exec re-randomizes a real server's memory layout) saves this stand-in
  // about 15 ms of CPU per connection (measured on OpenSSH 9.2), which 50 lab nodes on one machine
  // feel; an sshd that does not know -r refuses it here, and starts without it.
  const reexec = await run(sshd, ["-t", "-r", "-f", configFile]).then(
    () => ["-r"],
    async () => {
      await run(sshd, ["-t", "-f", configFile]);
      return [];
    },
  );

  const logFile = join(opts.dir, "sshd.log");
  const sshdArgv = [sshd, "-D", "-e", ...reexec, "-f", configFile];
  if (opts.hideHome !== undefined && !/^\/[A-Za-z0-9._/-]+$/.test(opts.hideHome)) {
    throw new Error(`hideHome "${opts.hideHome}" must be an absolute path of letters, digits, ".", "_", "-" and "/"`);
  }
  const inner = opts.hideHome
    ? ["sh", "-c", `mount -t tmpfs -o size=1m,mode=0700 lab-empty-home "$0" && exec "$@"`, opts.hideHome, ...sshdArgv]
    : sshdArgv;
  const unshare = opts.ownPids ? findCommand("unshare") : undefined;
  if (opts.ownPids && !unshare) throw new Error("unshare not found (util-linux): install it with apt-get install -y util-linux");
  // --kill-child: when unshare ends (stop(), lab down, a kill), the namespace's first process and so everything in it goes too.
  const argv = unshare ? [unshare, "--pid", "--fork", "--kill-child", "--mount-proc", ...inner] : inner;
  const proc: NamespaceProcess = spawnInNamespace(opts.namespace, argv, {
    logFile,
    detached: opts.detached,
  });
  const stop = async () => {
    await proc.stop();
    if (!opts.keepDir) rmSync(opts.dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitForListener(opts.namespace, opts.listenAddress, port, opts.startTimeoutMs ?? 10_000),
      proc.exited.then((code) => {
        throw new Error(`sshd exited (${code}) before listening`);
      }),
    ]);
  } catch (error) {
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-5).join("\n") : "";
    await proc.stop(500);
    throw new Error(
      `sshd in namespace ${opts.namespace} on ${opts.listenAddress}:${port} did not start: ${(error as Error).message}` +
        (log ? `\nsshd log (${logFile}):\n${log}` : ""),
    );
  }
  return { namespace: opts.namespace, address: opts.listenAddress, port, dir: opts.dir, pid: proc.pid, hostPublicKey, logFile, stop };
}

/** Stops an sshd started (detached) by another process, by the pid in its instance dir. */
export async function stopSshdInDir(dir: string): Promise<boolean> {
  const pidFile = join(dir, "sshd.pid");
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) return false;
  await killPid(pid);
  return true;
}

/** Polls the namespace's listening sockets until address:port shows up (the kernel then accepts connections). */
export async function waitForListener(namespace: string, address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await tryExecInNamespace(namespace, ["ss", "-Hltn", `sport = :${port}`]);
    if (result.code === 0 && result.stdout.split("\n").some((line) => line.includes(`${address}:${port}`))) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${address}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

// ---------------------------------------------------------------- client keys

export interface ClientKeyPair {
  /** OpenSSH private key format; keep it in memory, never log it */
  privateKey: string;
  /** "ssh-ed25519 AAAA... comment" */
  publicKey: string;
}

/**
 * A fresh ed25519 client key pair, built in memory with node:crypto and encoded in OpenSSH's
 * formats, so tests and the lab never write a private key to disk.
 */
export function generateClientKeyPair(comment = "lab-client"): ClientKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const seed = Buffer.from(jwk.d as string, "base64url");
  const pub = Buffer.from((publicKey.export({ format: "jwk" }).x as string) ?? jwk.x, "base64url");

  const keyType = sshString("ssh-ed25519");
  const publicBlob = Buffer.concat([keyType, sshString(pub)]);

  // openssh-key-v1: unencrypted ("none"), one key; the private section repeats a random
  // check integer, then type, public key, seed||public key, comment, and 1,2,3... padding to 8 bytes.
  const check = randomBytes(4);
  let privateSection = Buffer.concat([check, check, keyType, sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const padding = Buffer.from(Array.from({ length: (8 - (privateSection.length % 8)) % 8 }, (_, i) => i + 1));
  privateSection = Buffer.concat([privateSection, padding]);

  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(publicBlob),
    sshString(privateSection),
  ]);
  const base64Lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${base64Lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${publicBlob.toString("base64")} ${comment}`,
  };
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** SSH wire "string": 4-byte big-endian length, then the bytes. */
function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}
