// The live SSH fan-out on a real lab: `lab up --nodes 50` (50 node namespaces, each with sshd and
// kube-proxy's rules), 50 ms of latency each way in front of every sshd, then the lab's SSH source
// (collectNodes with the lab's targets and options, as `lab verify` reads the nodes) timed for one
// node and for all of them at concurrency 1, 8 and 32. The target (issue "big clusters"): all nodes
// in at most one node's time x ceil(N / concurrency) x 1.5.
//
// Latency: tc netem on both ends of each node's management veth when the kernel has netem;
// otherwise bench/ssh-delay-relay.ts in each node's namespace, in front of its sshd.
//
//   flock /tmp/gip-netns.lock npx ts-node bench/lab-fanout.ts [--nodes 50] [--delay-ms 50] [--runs 3] [--concurrency 1,8,32]
// Root. Own prefix and block (giplfo-, 10.249.0.0/16); the lab is always torn down, also on Ctrl-C.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { labDown } from "../lab/down";
import { addDelay, spawnInNamespace, type NamespaceProcess } from "../lab/netns";
import { waitForListener } from "../lab/sshd";
import { labNodeTargets, labSshOptions } from "../lab/source";
import { readClientKey, readState } from "../lab/state";
import { labTopology } from "../lab/topology";
import { interfaceNames, labUp } from "../lab/up";
import { collectNodes } from "../verifier/sources/ssh";
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

/** The machine's busy and total CPU time so far, in clock ticks (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function main(): Promise<void> {
  const unavailable = namespaceTestsUnavailable(["sshd", "ssh-keygen", "curl"]);
  if (unavailable) {
    console.error(`cannot run: ${unavailable}`);
    process.exit(2);
  }
  const count = whole("nodes", 50, 3);
  const delayMs = whole("delay-ms", 50, 0);
  const runs = whole("runs", 3, 1);
  const levels = option("concurrency", "1,8,32").split(",").map((c) => {
    if (!/^\d+$/.test(c) || Number(c) < 1) throw new Error(`--concurrency needs whole numbers >= 1 separated by commas, got "${c}"`);
    return Number(c);
  });
  const t = labTopology({ prefix: "giplfo-", net: "10.249", nodes: count });
  const relays: NamespaceProcess[] = [];
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
    const relayPort = 2222;
    if (!netem && delayMs > 0) {
      for (const node of t.nodes) {
        const relay = spawnInNamespace(node.namespace, [
          process.execPath,
          "--no-warnings",
          join(__dirname, "ssh-delay-relay.ts"),
          node.externalIp,
          String(relayPort),
          node.externalIp,
          String(t.sshPort),
          String(delayMs),
        ]);
        relays.push(relay);
        await Promise.race([
          waitForListener(node.namespace, node.externalIp, relayPort, 10_000),
          relay.exited.then((code) => Promise.reject(new Error(`delay relay in ${node.namespace} exited (${code})`))),
        ]);
      }
    }
    const latency = delayMs === 0 ? "no added latency" : netem ? `tc netem ${delayMs} ms on each end of every node's management veth` : `userspace relay, ${delayMs} ms each way (no netem in this kernel)`;
    console.log(`lab-fanout: ${count} nodes, ${latency}; median of ${runs} runs after 1 warm-up`);

    const state = readState(t);
    const privateKey = readClientKey(t);
    if (!state || !privateKey) throw new Error("the lab's state or key is missing after lab up");
    const targets: NodeTarget[] = labNodeTargets(t, state.hostKeys).map((target) => (relays.length > 0 ? { ...target, port: relayPort } : target));
    const collect = async (subset: NodeTarget[], concurrency: number): Promise<number> => {
      const opts: SshOptions = { ...labSshOptions(t, privateKey, 60_000), concurrency };
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const ticksBefore = machineTicks();
      const result = await collectNodes(subset, opts, silentProgress);
      const ms = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const ticks = machineTicks();
      // Where the time goes: this process's CPU (ssh2's crypto, the cut-down) and how busy all cores were.
      cpuNotes.push(
        `verifier CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, machine ${((100 * (ticks.busy - ticksBefore.busy)) / Math.max(1, ticks.total - ticksBefore.total)).toFixed(0)}% busy of ${cpus().length} cores`,
      );
      const bad = result.nodes.filter((n) => !n.reachable);
      if (bad.length > 0 || result.problems.length > 0) throw new Error(`collection failed: ${result.problems.map((p) => `${p.subject}: ${p.message}`).join("; ")}`);
      return ms;
    };
    const cpuNotes: string[] = [];
    const timed = async (label: string, subset: NodeTarget[], concurrency: number, n: number): Promise<number> => {
      await collect(subset, concurrency); // warm-up: JIT and ssh2's first key exchange are not what is measured
      const times: number[] = [];
      cpuNotes.length = 0;
      for (let i = 0; i < n; i++) times.push(await collect(subset, concurrency));
      console.log(`  ${label}: ${times.map((ms) => ms.toFixed(0)).join(", ")} ms (${cpuNotes.join("; ")})`);
      return median(times);
    };

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
