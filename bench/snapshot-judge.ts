// Prints how long `verify --snapshot` takes to read a folder and judge it in-process (no network:
// the clients' transports answer from the folder), and how the folder reading alone compares.
// Run: npx ts-node bench/snapshot-judge.ts [runs] [folder]   (default: 20, examples/snapshot/healthy-zonal)
import { performance } from "node:perf_hooks";
import { readSnapshotFolder } from "../verifier/snapshot/folder";
import { verifySnapshot } from "../verifier/snapshot/run";

async function measure(label: string, runs: number, once: () => Promise<unknown> | unknown): Promise<void> {
  await once(); // warm-up: module loading
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(28)} median ${times[Math.floor(runs / 2)]!.toFixed(1)} ms  p90 ${times[Math.floor(runs * 0.9)]!.toFixed(1)} ms`);
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const dir = process.argv[3] ?? "examples/snapshot/healthy-zonal";
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`usage: npx ts-node bench/snapshot-judge.ts [RUNS] [FOLDER]   (RUNS: a whole number >= 1; got "${process.argv[2]}")`);
    process.exitCode = 2;
    return;
  }
  const folder = readSnapshotFolder(dir);
  console.log(`${dir}: ${folder.compute.length} Compute objects, ${folder.kube.length} Kubernetes objects, ${folder.nodes.size} nodes' files; ${runs} runs`);
  await measure("read the folder", runs, () => readSnapshotFolder(dir));
  await measure("read + collect + judge", runs, () => verifySnapshot(dir, { requests: 0, timeoutMs: 1000 }));
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log(`rss after the runs: ${rss.toFixed(0)} MB`);
}

void main();
