// The live SSH fan-out on a real lab: `lab up --nodes 50` (50 node namespaces, each with sshd and
// kube-proxy's rules), 50 ms of latency each way in front of every sshd, then the lab's SSH source
// (collectNodes with the lab's targets and options, as `lab verify` reads the nodes) timed for one
// node and for all of them at concurrency 1, 8 and 32. The target (issue "big clusters"): all nodes
// in at most one node's time x ceil(N / concurrency) x 1.5.
//
// Latency: tc netem on both ends of each node's management veth when the kernel has netem;
// otherwise one bench/ssh-delay-relay.ts process in the root namespace, a loopback port per node.
//
//   flock /tmp/gip-netns.lock npx ts-node bench/lab-fanout.ts [--nodes 50] [--delay-ms 50] [--runs 3] [--concurrency 1,8,32] [--perf FILE]
// Each run also says where the CPU went (the verifier, the nodes' sshd and what their sessions ran,
// the relays, the rest of the machine); --perf FILE records the runs at the last concurrency with
// `perf record -a` and prints the CPU by command name.
// Root. Own prefix and block (giplfo-, 10.249.0.0/16); the lab is always torn down, also on Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { labDown } from "../lab/down";
import { addDelay } from "../lab/netns";
import { labNodeTargets, labSshOptions } from "../lab/source";
import { readClientKey, readState } from "../lab/state";
import { labTopology } from "../lab/topology";
import { interfaceNames, labUp } from "../lab/up";
import { collectNodes } from "../verifier/sources/ssh";
import { nodeRound } from "../verifier/sources/node-outputs";
import { silentProgress, type NodeTarget, type SshOptions } from "../verifier/sources/types";
import { namespaceTestsUnavailable } from "../tests/support/namespaces";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : (process.argv[i + 1] ?? "");
}
function whole(name: string, fallback: number, min: number): number {
  const text = option(name, String(fallback));
  if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`--${name} needs a whole number >= ${min}, got "${text}"`);
  return Number(text);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/**
 * CPU ticks of a process so far: its own (utime + stime) and, with `reaped`, those of its children
 * it has waited for (cutime + cstime: for an sshd listener, every session it forked and all they ran).
 * 0 for a pid that is gone.
 */
function pidTicks(pid: number, reaped: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after "(comm) ": state is [0], utime [11], stime [12], cutime [13], cstime [14]
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return f[11]! + f[12]! + (reaped ? f[13]! + f[14]! : 0);
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU time so far, in clock ticks (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** The sshd listener of a lab node: the pid recorded, or its child when that is the unshare holding sshd's own PID namespace. */
function sshdListener(pid: number): number {
  try {
    if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "unshare") return pid;
    return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0]) || pid;
  } catch {
    return pid;
  }
}

/** The CPU ticks this process's reaped children have used so far (cutime + cstime). */
function reapedTicks(): number {
  return pidTicks(process.pid, true) - pidTicks(process.pid, false);
}

/**
 * Runs one node round's commands (the nat candidates gzip'ed, addresses, listeners, ip_forward),
 * as the SSH source sends them, straight in each node's namespace with `ip netns exec ... bash -c`,
 * one after the other: their CPU seconds without SSH, and that of `ip netns exec ... true` alone.
 */
function nodeCommandsAlone(t: ReturnType<typeof labTopology>, nodes: number): { nodes: number; seconds: number; netnsSeconds: number } {
  const round = nodeRound(t.sshUser, []);
  const before = reapedTicks();
  for (const node of t.nodes.slice(0, nodes)) {
    for (const command of round.commands) {
      const r = spawnSync("ip", ["netns", "exec", node.namespace, "bash", "-c", command], { encoding: "utf8", maxBuffer: 64 << 20 });
      if (r.status !== 0 && !command.includes("legacy") && !command.includes("nft list")) throw new Error(`${command} in ${node.namespace}: exit ${r.status}: ${r.stderr}`);
    }
  }
  const middle = reapedTicks();
  for (const node of t.nodes.slice(0, nodes)) for (let i = 0; i < round.commands.length; i++) spawnSync("ip", ["netns", "exec", node.namespace, "true"]);
  const netns = reapedTicks() - middle;
  return { nodes, seconds: (middle - before) / CLK_TCK, netnsSeconds: netns / CLK_TCK };
}

/**
 * `perf record -a` (cpu-clock, every CPU) into `file` until stop(); then prints where the CPU went by
 * command name (`perf report --sort comm`), the first lines. perf must be installed.
 */
function startPerf(file: string): { stop(): Promise<void> } {
  const perf = spawn("perf", ["record", "-a", "-e", "cpu-clock", "-F", "499", "-o", file], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((resolve) => perf.once("exit", () => resolve()));
  return {
    async stop() {
      perf.kill("SIGINT");
      await exited;
      const report = spawnSync("perf", ["report", "-i", file, "--sort", "comm", "--stdio"], { encoding: "utf8", maxBuffer: 16 << 20 });
      const lines = report.stdout.split("\n").filter((l) => /^\s+\d/.test(l)).slice(0, 15);
      console.log(`    perf (${file}), CPU by command name:\n${lines.map((l) => `      ${l.trim()}`).join("\n")}`);
    },
  };
}

async function main(): Promise<void> {
  // the verifier's process, apart from the relays (also Node) in `perf report --sort comm`
  process.title = "lab-fanout";
  const unavailable = namespaceTestsUnavailable(["sshd", "ssh-keygen", "curl"]);
  if (unavailable) {
    console.error(`cannot run: ${unavailable}`);
    process.exit(2);
  }
  const count = whole("nodes", 50, 3);
  const perfFile = process.argv.includes("--perf") ? option("perf", "") : undefined;
  if (perfFile === "" || perfFile?.startsWith("--")) throw new Error("--perf needs a file name for perf's data, e.g. --perf /tmp/lab-fanout.perf");
  const delayMs = whole("delay-ms", 50, 0);
  const runs = whole("runs", 3, 1);
  const levels = option("concurrency", "1,8,32").split(",").map((c) => {
    if (!/^\d+$/.test(c) || Number(c) < 1) throw new Error(`--concurrency needs whole numbers >= 1 separated by commas, got "${c}"`);
    return Number(c);
  });
  const t = labTopology({ prefix: "giplfo-", net: "10.249", nodes: count });
  const relays: { pid: number; stop(graceMs?: number): Promise<void> }[] = [];
  const stopAll = async () => {
    await Promise.all(relays.map((r) => r.stop(500)));
    const down = await labDown(t);
    if (down.leftovers.length > 0) console.error(`lab-fanout: left behind: ${down.leftovers.join("; ")}`);
  };
  process.once("SIGINT", () => void stopAll().finally(() => process.exit(130)));

  try {
    await labDown(t); // leftovers of a killed run
    const upStarted = performance.now();
    await labUp(t);
    console.log(`lab-fanout: lab up --nodes ${count} in ${((performance.now() - upStarted) / 1000).toFixed(1)} s`);

    // Latency on the management network only: the path SSH takes, not the LB's.
    const names = interfaceNames(t);
    let netem = delayMs > 0;
    for (const [i, node] of t.nodes.entries()) {
      if (!netem) break;
      netem = (await addDelay(node.namespace, names.nodeManagement(i + 1), delayMs)) && (await addDelay(undefined, names.rootManagementPort(i + 1), delayMs));
    }
    // One relay process for every node, in the root namespace where the verifier runs: it listens on
    // a free loopback port per node and relays to that node's sshd over the management network.
    const relayPorts = new Map<string, number>();
    if (!netem && delayMs > 0) {
      const relay = spawn(process.execPath, ["--no-warnings", join(__dirname, "ssh-delay-relay.ts"), String(delayMs), ...t.nodes.map((n) => `127.0.0.1:0=${n.externalIp}:${t.sshPort}`)], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise<void>((resolve) => relay.once("exit", () => resolve()));
      relays.push({ pid: relay.pid as number, stop: async () => void (relay.exitCode === null && relay.kill("SIGTERM") && (await exited)) });
      const lines = await new Promise<string[]>((resolve, reject) => {
        let out = "";
        relay.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const got = out.split("\n").filter((l) => l.startsWith("relay "));
          if (got.length === t.nodes.length) resolve(got);
        });
        relay.once("exit", (code) => reject(new Error(`the delay relay exited (${code}) before it listened`)));
      });
      for (const [i, line] of lines.entries()) relayPorts.set(t.nodes[i]!.name, Number(/^relay [\d.]+:(\d+) /.exec(line)?.[1]));
    }
    const latency = delayMs === 0 ? "no added latency" : netem ? `tc netem ${delayMs} ms on each end of every node's management veth` : `userspace relay, ${delayMs} ms each way (no netem in this kernel)`;
    console.log(`lab-fanout: ${count} nodes, ${latency}; median of ${runs} runs after 1 warm-up`);

    const state = readState(t);
    const privateKey = readClientKey(t);
    if (!state || !privateKey) throw new Error("the lab's state or key is missing after lab up");
    const targets: NodeTarget[] = labNodeTargets(t, state.hostKeys).map((target) => (relayPorts.has(target.name) ? { ...target, address: "127.0.0.1", port: relayPorts.get(target.name) } : target));
    const sshdPids = t.nodes.map((n) => state.pids[`sshd ${n.name}`]).filter((pid): pid is number => pid !== undefined).map(sshdListener);
    // Where the CPU goes during a run, in ticks: this process (the verifier's SSH client and the
    // cut-down), the nodes' sshd listeners with every session they forked and reaped (key exchange,
    // bash, iptables-save, gzip...), the delay relays, and the whole machine (the rest is other work).
    const cpuNow = () => {
      const own = process.cpuUsage();
      return {
        verifier: ((own.user + own.system) / 1e6) * CLK_TCK,
        sshd: sshdPids.reduce((sum, pid) => sum + pidTicks(pid, true), 0),
        relays: relays.reduce((sum, r) => sum + pidTicks(r.pid, false), 0),
        ...machineTicks(),
      };
    };
    const collect = async (subset: NodeTarget[], concurrency: number): Promise<number> => {
      const opts: SshOptions = { ...labSshOptions(t, privateKey, 60_000), concurrency };
      const before = cpuNow();
      const started = performance.now();
      const result = await collectNodes(subset, opts, silentProgress);
      const ms = performance.now() - started;
      // the sessions' sshd processes end just after the client closes: let their listeners reap them
      await new Promise((r) => setTimeout(r, 300));
      const after = cpuNow();
      const s = (k: "verifier" | "sshd" | "relays" | "busy") => (after[k] - before[k]) / CLK_TCK;
      const rest = s("busy") - s("verifier") - s("sshd") - s("relays");
      cpuNotes.push(
        `CPU s: verifier ${s("verifier").toFixed(2)}, sshd+node commands ${s("sshd").toFixed(2)}, relays ${s("relays").toFixed(2)}, rest ${rest.toFixed(2)}; ` +
          `machine ${((100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total)).toFixed(0)}% busy of ${cpus().length} cores`,
      );
      cpuSums.push({ verifier: s("verifier"), sshd: s("sshd"), relays: s("relays"), rest });
      const bad = result.nodes.filter((n) => !n.reachable);
      if (bad.length > 0 || result.problems.length > 0) throw new Error(`collection failed: ${result.problems.map((p) => `${p.subject}: ${p.message}`).join("; ")}`);
      return ms;
    };
    const cpuNotes: string[] = [];
    const cpuSums: { verifier: number; sshd: number; relays: number; rest: number }[] = [];
    const timed = async (label: string, subset: NodeTarget[], concurrency: number, n: number): Promise<number> => {
      await collect(subset, concurrency); // warm-up: JIT and ssh2's first key exchange are not what is measured
      const times: number[] = [];
      cpuNotes.length = 0;
      cpuSums.length = 0;
      const perf = perfFile && concurrency === levels[levels.length - 1] && subset.length > 1 ? startPerf(perfFile) : undefined;
      for (let i = 0; i < n; i++) times.push(await collect(subset, concurrency));
      if (perf) await perf.stop();
      console.log(`  ${label}: ${times.map((ms) => ms.toFixed(0)).join(", ")} ms`);
      for (const note of cpuNotes) console.log(`    ${note}`);
      const m = (k: keyof (typeof cpuSums)[number]) => median(cpuSums.map((c) => c[k]));
      if (subset.length > 1) {
        console.log(
          `    per node (medians): verifier ${((1000 * m("verifier")) / subset.length).toFixed(0)} ms, sshd+node commands ${((1000 * m("sshd")) / subset.length).toFixed(0)} ms, relay ${((1000 * m("relays")) / subset.length).toFixed(0)} ms of CPU`,
        );
      }
      return median(times);
    };

    // The same commands without SSH, one node after the other: what the nodes' own work costs.
    const alone = nodeCommandsAlone(t, t.nodes.length);
    console.log(
      `  the node commands alone (ip netns exec, no SSH), ${alone.nodes} nodes: ${alone.seconds.toFixed(2)} s of CPU, ${((1000 * alone.seconds) / alone.nodes).toFixed(0)} ms per node ` +
        `(of which ip netns exec itself ${((1000 * alone.netnsSeconds) / alone.nodes).toFixed(0)} ms)`,
    );
    const one = await timed("1 node", targets.slice(0, 1), 1, Math.max(runs, 3));
    const rows: { concurrency: number; ms: number; target: number }[] = [];
    for (const c of levels) {
      // Concurrency 1 is one node after the other: one run is enough to show it.
      const ms = await timed(`${count} nodes at concurrency ${c}`, targets, c, c === 1 ? 1 : runs);
      rows.push({ concurrency: c, ms, target: one * Math.ceil(count / c) * 1.5 });
    }
    console.log("");
    console.log(`one node: ${one.toFixed(0)} ms`);
    console.log("| concurrency | all nodes | one node x ceil(N/c) | target (x1.5) | met |");
    console.log("|---|---|---|---|---|");
    for (const r of rows) {
      console.log(`| ${r.concurrency} | ${(r.ms / 1000).toFixed(2)} s | ${((one * Math.ceil(count / r.concurrency)) / 1000).toFixed(2)} s | ${(r.target / 1000).toFixed(2)} s | ${r.ms <= r.target ? "yes" : "NO"} |`);
    }
  } finally {
    await stopAll();
  }
}

main().catch((error) => {
  console.error(`lab-fanout: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
