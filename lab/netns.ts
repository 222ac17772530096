// Network-namespace helpers over iproute2 for the lab and the namespace-based tests.
// Every command is run with execFile and an argv array (never a shell string), so names and
// addresses can't be misread as shell syntax.
//
// Exported API (all async functions reject with CommandError, which names the argv and stderr):
//   run(file, args, opts?)                      -> Promise<CommandOutput>   any command, root namespace
//   createNamespace(name)                       -> Promise<void>            idempotent; brings `lo` up
//   deleteNamespace(name, opts?)                -> Promise<void>            idempotent; first kills the
//                                                                            processes inside (by pid)
//   listNamespaces(prefix?)                     -> Promise<string[]>
//   deleteNamespacesWithPrefix(prefix)          -> Promise<string[]>        the names it deleted
//   createVeth(a: VethEnd, b: VethEnd)          -> Promise<void>            pair between two namespaces
//                                                                            (namespace undefined = root);
//                                                                            addresses set, both ends up
//   deleteLink(ifname, namespace?)              -> Promise<void>            idempotent
//   addAddress(namespace, ifname, cidr)         -> Promise<void>            idempotent
//   setLinkUp(namespace, ifname)                -> Promise<void>
//   addRoute(namespace, destination, {via?, dev?}) -> Promise<void>         `ip route replace`
//   execInNamespace(namespace, argv, opts?)     -> Promise<CommandOutput>   `ip netns exec`; opts.input
//                                                                            is written to stdin; rejects
//                                                                            on non-zero exit
//   tryExecInNamespace(namespace, argv, opts?)  -> Promise<CommandOutput & {code}>  never rejects on exit code
//   spawnInNamespace(namespace, argv, opts?)    -> NamespaceProcess         long-running; pid recorded
//                                                                            (opts.pidFile), output to
//                                                                            opts.logFile, opts.detached
//   namespacePids(namespace)                    -> Promise<number[]>
//   killPid(pid, graceMs?)                      -> Promise<void>            TERM, then KILL after graceMs
//   addDelay(namespace, ifname, ms)             -> Promise<boolean>         tc netem; false when the kernel
//                                                                            has no netem qdisc
//   preflight(opts?)                            -> Promise<PreflightReport> root? netns? tools (+ apt-get line)
//   Addresses: DEFAULT_LAB_RANGE = "10.213.0.0/16"; parseCidr, cidrContains, cidrsOverlap,
//   linkAddresses(range, index) -> {a, b}: the two host addresses ("x/30") of the index-th /30 link,
//   hostAddressCollisions(cidrs) -> Promise<string[]>: which cidrs overlap an address the root
//   namespace already has (eth0 etc.); the lab must stay off those.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";

// ---------------------------------------------------------------- running commands

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number | string | null,
    readonly stderr: string,
  ) {
    super(`command failed (exit ${code}): ${argv.join(" ")}${stderr.trim() ? `\n${stderr.trim()}` : ""}`);
    this.name = "CommandError";
  }
}

export interface RunOptions {
  /** written to the command's stdin */
  input?: string;
  timeoutMs?: number;
}

/** Runs a command (no shell); resolves with its output, rejects with CommandError on failure. */
export async function run(file: string, args: string[], opts: RunOptions = {}): Promise<CommandOutput> {
  const result = await runAllowingFailure(file, args, opts);
  if (result.code !== 0) throw new CommandError([file, ...args], result.code, result.stderr);
  return { stdout: result.stdout, stderr: result.stderr };
}

async function runAllowingFailure(
  file: string,
  args: string[],
  opts: RunOptions = {},
): Promise<CommandOutput & { code: number | string | null }> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr, code: 0 });
        // ENOENT and friends come as string codes; exit statuses as numbers; timeouts as a signal.
        const { code, signal } = error as { code?: unknown; signal?: unknown };
        const reason = typeof code === "number" || typeof code === "string" ? code : typeof signal === "string" ? signal : null;
        resolve({ stdout, stderr: stderr || error.message, code: reason === 0 ? 1 : reason });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

const ip = (args: string[], opts?: RunOptions) => run("ip", args, opts);

/** `ip -n NS ...` for a namespace, plain `ip ...` for the root namespace. */
const ipIn = (namespace: string | undefined, args: string[]) =>
  ip(namespace === undefined ? args : ["-n", namespace, ...args]);

// ---------------------------------------------------------------- namespaces

export async function listNamespaces(prefix = ""): Promise<string[]> {
  const { stdout } = await ip(["netns", "list"]);
  // Lines look like "gips-a (id: 3)" or just "gips-a".
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "" && name.startsWith(prefix));
}

export async function createNamespace(name: string): Promise<void> {
  assertNamespaceName(name);
  if (!(await listNamespaces()).includes(name)) {
    try {
      await ip(["netns", "add", name]);
    } catch (error) {
      // Two callers racing to create the same namespace both end up with it: fine.
      if (!(await listNamespaces()).includes(name)) throw error;
    }
  }
  await ip(["-n", name, "link", "set", "lo", "up"]);
}

export interface DeleteNamespaceOptions {
  /** kill the processes still running inside first (default true); `ip netns del` leaves them running */
  killProcesses?: boolean;
}

export async function deleteNamespace(name: string, opts: DeleteNamespaceOptions = {}): Promise<void> {
  if (!(await listNamespaces()).includes(name)) return;
  if (opts.killProcesses ?? true) {
    await Promise.all((await namespacePids(name)).map((pid) => killPid(pid)));
  }
  try {
    await ip(["netns", "del", name]);
  } catch (error) {
    if ((await listNamespaces()).includes(name)) throw error;
  }
}

export async function deleteNamespacesWithPrefix(prefix: string): Promise<string[]> {
  if (prefix.length < 3) throw new Error(`refusing to delete namespaces by the short prefix "${prefix}": use your own prefix, e.g. "gips-"`);
  const names = await listNamespaces(prefix);
  for (const name of names) await deleteNamespace(name);
  return names;
}

export async function namespacePids(name: string): Promise<number[]> {
  const { stdout } = await ip(["netns", "pids", name]);
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

function assertNamespaceName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) {
    throw new Error(`invalid namespace name "${name}": use letters, digits, "-", "_" or "." (max 63 characters)`);
  }
}

// ---------------------------------------------------------------- links, addresses, routes

export interface VethEnd {
  /** undefined = the root namespace */
  namespace?: string;
  /** interface name, at most 15 characters (kernel limit); must be unique in its namespace */
  ifname: string;
  /** "10.213.0.1/30"; optional */
  address?: string;
}

/** Creates a veth pair with one end in each namespace, sets the addresses and brings both ends up. */
export async function createVeth(a: VethEnd, b: VethEnd): Promise<void> {
  for (const end of [a, b]) {
    if (end.ifname.length > 15) throw new Error(`interface name "${end.ifname}" is longer than 15 characters (kernel limit)`);
  }
  await deleteLink(a.ifname, a.namespace);
  await deleteLink(b.ifname, b.namespace);
  // Each end is created directly in its namespace, so a name like "eth0" inside a namespace
  // never clashes with the root namespace's own interfaces.
  const placement = (end: VethEnd) => (end.namespace === undefined ? [] : ["netns", end.namespace]);
  await ip(["link", "add", "name", a.ifname, ...placement(a), "type", "veth", "peer", "name", b.ifname, ...placement(b)]);
  for (const end of [a, b]) {
    if (end.address !== undefined) await addAddress(end.namespace, end.ifname, end.address);
    await setLinkUp(end.namespace, end.ifname);
  }
}

/** Deletes a link if it exists (deleting one veth end removes its peer too). */
export async function deleteLink(ifname: string, namespace?: string): Promise<void> {
  const show = await runAllowingFailure("ip", [...nsArgs(namespace), "link", "show", "dev", ifname]);
  if (show.code !== 0) return;
  // A veth end goes away by itself shortly after its peer's namespace is deleted: gone is done.
  const del = await runAllowingFailure("ip", [...nsArgs(namespace), "link", "del", "dev", ifname]);
  if (del.code !== 0 && !/Cannot find device/.test(del.stderr)) throw new CommandError(["ip", ...nsArgs(namespace), "link", "del", "dev", ifname], del.code, del.stderr);
}

export async function addAddress(namespace: string | undefined, ifname: string, cidr: string): Promise<void> {
  parseCidr(cidr);
  // `replace` makes it idempotent: re-running a lab setup doesn't fail on "File exists".
  await ipIn(namespace, ["addr", "replace", cidr, "dev", ifname]);
}

export async function setLinkUp(namespace: string | undefined, ifname: string): Promise<void> {
  await ipIn(namespace, ["link", "set", "dev", ifname, "up"]);
}

export async function addRoute(
  namespace: string | undefined,
  destination: string,
  opts: { via?: string; dev?: string },
): Promise<void> {
  if (!opts.via && !opts.dev) throw new Error(`route to ${destination}: give a gateway (via) or a device (dev)`);
  const args = ["route", "replace", destination];
  if (opts.via) args.push("via", opts.via);
  if (opts.dev) args.push("dev", opts.dev);
  await ipIn(namespace, args);
}

/** Adds a fixed delay on an interface's egress with tc netem. Returns false when the kernel lacks netem. */
export async function addDelay(namespace: string | undefined, ifname: string, ms: number): Promise<boolean> {
  const result = await runAllowingFailure("tc", [
    ...nsArgs(namespace),
    "qdisc",
    "replace",
    "dev",
    ifname,
    "root",
    "netem",
    "delay",
    `${ms}ms`,
  ]);
  if (result.code === 0) return true;
  if (/unknown|not supported|No such file/i.test(result.stderr)) return false;
  throw new CommandError(["tc", "qdisc", "replace", "dev", ifname, "root", "netem", "delay", `${ms}ms`], result.code, result.stderr);
}

const nsArgs = (namespace?: string) => (namespace === undefined ? [] : ["-n", namespace]);

// ---------------------------------------------------------------- commands in a namespace

export async function execInNamespace(namespace: string, argv: string[], opts: RunOptions = {}): Promise<CommandOutput> {
  if (argv.length === 0) throw new Error("execInNamespace: empty argv");
  return run("ip", ["netns", "exec", namespace, ...argv], opts);
}

export async function tryExecInNamespace(
  namespace: string,
  argv: string[],
  opts: RunOptions = {},
): Promise<CommandOutput & { code: number | string | null }> {
  if (argv.length === 0) throw new Error("tryExecInNamespace: empty argv");
  return runAllowingFailure("ip", ["netns", "exec", namespace, ...argv], opts);
}

export interface SpawnOptions {
  /** stdout + stderr appended here; default: discarded */
  logFile?: string;
  /** the pid is written here, so another process (e.g. `lab down`) can stop it */
  pidFile?: string;
  /** keep running after this Node process exits (for `lab up`); default false */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface NamespaceProcess {
  pid: number;
  child: ChildProcess;
  /** resolves with the exit code (or the signal name) once the process is gone */
  exited: Promise<number | string>;
  /** TERM, then KILL after graceMs (default 2000); resolves when it is gone */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running process inside a namespace. `ip netns exec` execs the command, so the pid is the command's. */
export function spawnInNamespace(namespace: string, argv: string[], opts: SpawnOptions = {}): NamespaceProcess {
  if (argv.length === 0) throw new Error("spawnInNamespace: empty argv");
  const logFd = opts.logFile ? openSync(opts.logFile, "a", 0o600) : undefined;
  const output = logFd ?? "ignore";
  const child = spawn("ip", ["netns", "exec", namespace, ...argv], {
    stdio: ["ignore", output, output],
    detached: opts.detached ?? false,
    env: opts.env ?? process.env,
  });
  if (logFd !== undefined) closeSync(logFd);
  if (child.pid === undefined) throw new Error(`could not start ${argv[0]} in namespace ${namespace}`);
  const pid = child.pid;
  if (opts.pidFile) writeFileSync(opts.pidFile, `${pid}\n`, { mode: 0o644 });
  if (opts.detached) child.unref();
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    child.once("error", () => resolve("spawn-error"));
  });
  const stop = async (graceMs = 2000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { pid, child, exited, stop };
}

/** Stops a process by pid: TERM, then KILL if it is still there after graceMs. Missing pid = done. */
export async function killPid(pid: number, graceMs = 2000): Promise<void> {
  if (!signalPid(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(25);
    if (!pidAlive(pid)) return;
  }
  signalPid(pid, "SIGKILL");
}

function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie child of ours still answers signal 0; /proc tells it apart.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- addresses (IPv4)

/** The lab's default private range; configurable everywhere an address is chosen. */
export const DEFAULT_LAB_RANGE = "10.213.0.0/16";

export interface Cidr {
  address: string;
  /** the address as a 32-bit unsigned number */
  value: number;
  prefixLength: number;
}

export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`"${text}" is not an IPv4 address (expected four numbers 0-255, like 10.213.0.1)`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function parseCidr(text: string): Cidr {
  const [address, prefix, ...rest] = text.split("/");
  const prefixLength = Number(prefix);
  if (rest.length > 0 || address === undefined || prefix === undefined || !/^\d{1,2}$/.test(prefix) || prefixLength > 32) {
    throw new Error(`"${text}" is not an IPv4 CIDR (expected address/prefix, like 10.213.0.0/16)`);
  }
  return { address, value: parseIpv4(address), prefixLength };
}

function networkOf(cidr: Cidr): { start: number; size: number } {
  const size = 2 ** (32 - cidr.prefixLength);
  return { start: cidr.value - (cidr.value % size), size };
}

export function cidrContains(cidr: string, address: string): boolean {
  const { start, size } = networkOf(parseCidr(cidr));
  const value = parseIpv4(address);
  return value >= start && value < start + size;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = networkOf(parseCidr(a));
  const y = networkOf(parseCidr(b));
  return x.start < y.start + y.size && y.start < x.start + x.size;
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/**
 * The two host addresses of the index-th /30 inside `range` (index 0 -> .1/30 and .2/30,
 * index 1 -> .5/30 and .6/30, ...). The range must be private (RFC 1918) and large enough.
 */
export function linkAddresses(range: string, index: number): { a: string; b: string } {
  const cidr = parseCidr(range);
  if (!PRIVATE_RANGES.some((p) => cidrContains(p, cidr.address) && parseCidr(p).prefixLength <= cidr.prefixLength)) {
    throw new Error(`lab range ${range} is not private: choose one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
  }
  const { start, size } = networkOf(cidr);
  if (!Number.isInteger(index) || index < 0 || (index + 1) * 4 > size) {
    throw new Error(`link ${index} does not fit in ${range} (room for ${Math.floor(size / 4)} /30 links)`);
  }
  const base = start + index * 4;
  return { a: `${formatIpv4(base + 1)}/30`, b: `${formatIpv4(base + 2)}/30` };
}

/** The root namespace's IPv4 addresses with their prefixes, e.g. ["127.0.0.1/8", "192.0.2.2/24"]. */
export async function hostIpv4Cidrs(): Promise<string[]> {
  const { stdout } = await ip(["-o", "-4", "addr", "show"]);
  return [...stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+\/\d+)/g)].map((m) => m[1] as string);
}

/** Which of `cidrs` overlap an address the root namespace already holds ("cidr overlaps eth0's x/y"). */
export async function hostAddressCollisions(cidrs: string[]): Promise<string[]> {
  const host = await hostIpv4Cidrs();
  const collisions: string[] = [];
  for (const cidr of cidrs) {
    for (const existing of host) {
      if (cidrsOverlap(cidr, existing)) collisions.push(`${cidr} overlaps the host's ${existing}`);
    }
  }
  return collisions;
}

// ---------------------------------------------------------------- preflight

/** The command -> the Debian/Ubuntu package that ships it. */
const PACKAGE_OF: Record<string, string> = {
  ip: "iproute2",
  tc: "iproute2",
  ss: "iproute2",
  iptables: "iptables",
  "iptables-save": "iptables",
  "iptables-restore": "iptables",
  "iptables-legacy-save": "iptables",
  "iptables-nft-save": "iptables",
  nft: "nftables",
  sshd: "openssh-server",
  "ssh-keygen": "openssh-client",
  ssh: "openssh-client",
};

export interface PreflightOptions {
  /** commands that must be on PATH (default: ip, iptables, iptables-save, iptables-restore, sshd, ssh-keygen) */
  commands?: string[];
  /** if given, a namespace of this name is created and deleted to prove netns works */
  probeNamespace?: string;
}

export interface PreflightReport {
  ok: boolean;
  /** one line per problem, each saying how to fix it */
  problems: string[];
  missingCommands: string[];
}

/** Finds a command on PATH plus the sbin directories (which a non-login root shell may lack). */
export function findCommand(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Says what is missing to run namespace labs here; every problem is listed, not just the first. */
export async function preflight(opts: PreflightOptions = {}): Promise<PreflightReport> {
  const problems: string[] = [];
  if (process.platform !== "linux") problems.push(`network namespaces need Linux (this is ${process.platform})`);
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    problems.push('not root: network namespaces, veth links and iptables need root: run the command as root, or prefix it with sudo -E env PATH="$PATH" (plain sudo drops the Node on your PATH and LAB_PREFIX / LAB_NET)');
  }
  if (!existsSync("/proc/self/ns/net")) problems.push("this kernel exposes no network namespaces (/proc/self/ns/net is missing)");

  const commands = opts.commands ?? ["ip", "iptables", "iptables-save", "iptables-restore", "sshd", "ssh-keygen"];
  const missingCommands = commands.filter((c) => findCommand(c) === undefined);
  if (missingCommands.length > 0) {
    const packages = [...new Set(missingCommands.map((c) => PACKAGE_OF[c] ?? c))];
    problems.push(`missing commands: ${missingCommands.join(", ")}; install with: apt-get install -y ${packages.join(" ")}`);
  }

  if (problems.length === 0 && opts.probeNamespace) {
    try {
      await createNamespace(opts.probeNamespace);
      await deleteNamespace(opts.probeNamespace);
    } catch (error) {
      problems.push(`cannot create a network namespace (${(error as Error).message.split("\n").pop()}); is this a container without CAP_SYS_ADMIN?`);
    }
  }
  return { ok: problems.length === 0, problems, missingCommands };
}
