// How collectNodes scales with the node count: 3 nodes (network namespaces with sshd and
// kube-proxy nat rules) behind 50 ms of one-way latency, collectNodes timed for 1 node and for
// all 3 (median of several runs). Reading nodes concurrently should make 3 nodes cost about
// what 1 node costs, not 3 times as much.
//
// Latency: tc netem on both veth ends when the kernel has netem; otherwise a userspace relay
// (bench/ssh-delay-relay.ts) in each node's namespace delays every chunk by the same amount.
//
//   npx ts-node bench/ssh-concurrency.ts [--runs 7] [--delay-ms 50]   (as root)
// Environment: GIPS_BENCH_RANGE (default 10.215.0.0/16), a private /16 used only by this benchmark.
import { join } from "node:path";
import { spawnInNamespace, type NamespaceProcess } from "../lab/netns";
import { generateClientKeyPair, waitForListener } from "../lab/sshd";
import { writeNatRules } from "../verifier/iptables/kube-proxy-rules";
import { collectNodes } from "../verifier/sources/ssh";
import { silentProgress, type NodeTarget, type SshOptions } from "../verifier/sources/types";
import { namespaceTestsUnavailable } from "../tests/support/namespaces";
import { NodeLab, sshTestCommands, type TestNode } from "../tests/ssh/node-lab";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a whole number >= 0, got "${process.argv[i + 1]}"`);
  return value;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function timeRuns(label: string, runs: number, once: () => Promise<void>): Promise<number[]> {
  await once(); // warm-up: first-run costs (JIT, ssh2 crypto setup) are not what we measure
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${label}: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
  return times;
}

async function main(): Promise<void> {
  const unavailable = namespaceTestsUnavailable(sshTestCommands);
  if (unavailable) {
    console.error(`cannot run: ${unavailable}`);
    process.exit(2);
  }
  const runs = option("runs", 7);
  const delayMs = option("delay-ms", 50);
  const lab = new NodeLab("gips-bench-", process.env.GIPS_BENCH_RANGE ?? "10.215.0.0/16");
  const relays: NamespaceProcess[] = [];
  const stopAll = async () => {
    await Promise.all(relays.map((r) => r.stop(500)));
    await lab.destroy();
  };
  process.once("SIGINT", () => void stopAll().finally(() => process.exit(130)));

  try {
    await lab.destroy(); // leftovers of a killed run
    const client = generateClientKeyPair("bench");
    const nodes: TestNode[] = [];
    for (const name of ["node-1", "node-2", "node-3"]) {
      const rules = writeNatRules({
        services: [
          {
            namespace: "default",
            name: "hello",
            protocol: "tcp",
            clusterIP: "10.215.128.10",
            port: 80,
            nodePort: 30080,
            endpoints: [
              { ip: "10.215.64.3", port: 8080 },
              { ip: "10.215.66.4", port: 8080 },
            ],
          },
        ],
      });
      nodes.push(await lab.add({ name, sshd: true, natRules: rules, delayMs }, client.publicKey));
    }

    const netem = nodes.every((n) => n.delayed);
    const relayPort = 2222;
    if (!netem && delayMs > 0) {
      for (const node of nodes) {
        const relay = spawnInNamespace(node.namespace, [
          process.execPath,
          join(__dirname, "ssh-delay-relay.ts"),
          String(delayMs),
          `${node.nodeIp}:${relayPort}=${node.nodeIp}:22`,
        ]);
        relays.push(relay);
        await Promise.race([
          waitForListener(node.namespace, node.nodeIp, relayPort, 10_000),
          relay.exited.then((code) => Promise.reject(new Error(`delay relay in ${node.namespace} exited (${code})`))),
        ]);
      }
    }
    const latency =
      delayMs === 0 ? "no added latency" : netem ? `tc netem ${delayMs} ms on each veth end` : `userspace relay, ${delayMs} ms each way (no netem in this kernel)`;
    console.log(`ssh-concurrency: ${latency}; ${runs} runs after 1 warm-up; median reported`);

    const targets: NodeTarget[] = nodes.map((n) => ({
      name: n.name,
      address: n.nodeIp,
      port: relays.length > 0 ? relayPort : 22,
      hostKeys: [n.sshd!.hostPublicKey],
    }));
    const opts: SshOptions = { user: "root", privateKey: client.privateKey, transport: "lab", timeoutMs: 15_000 };
    const collect = (subset: NodeTarget[]) => async () => {
      const result = await collectNodes(subset, opts, silentProgress);
      const bad = result.nodes.filter((n) => !n.reachable || !n.nat?.text.includes("KUBE-NODEPORTS"));
      if (bad.length > 0 || result.problems.length > 0) {
        throw new Error(`collection failed: ${JSON.stringify(result.problems)}`);
      }
    };

    const one = median(await timeRuns("1 node ", runs, collect(targets.slice(0, 1))));
    const three = median(await timeRuns("3 nodes", runs, collect(targets)));
    console.log(`median 1 node:  ${one.toFixed(0)} ms`);
    console.log(`median 3 nodes: ${three.toFixed(0)} ms`);
    console.log(`ratio 3/1:      ${(three / one).toFixed(2)} (1.00 = perfectly concurrent, 3.00 = one node after the other)`);
  } finally {
    await stopAll();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
