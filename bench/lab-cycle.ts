// Times the lab's whole cycle as a reader runs it: `lab up`, `lab verify` (100 requests), `lab down`,
// each as its own CLI process, started as `npm run lab` starts it (compiled, start-up included). Root only. Uses its own prefix and block
// (gipbench-, 10.217.0.0/16) so a running lab is not touched, and always tears down.
//   npx ts-node bench/lab-cycle.ts [rounds=3] [--backend neg]   (as root; --backend neg: the container-native lab)
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const BACKEND_AT = process.argv.indexOf("--backend");
const BACKEND = BACKEND_AT > 0 ? process.argv[BACKEND_AT + 1] : undefined;
const ROUNDS = Number(process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--backend") ?? 3);
const TARGET_SECONDS = 30;
const REPO = join(__dirname, "..");
const ENV = { ...process.env, LAB_PREFIX: "gipbench-", LAB_NET: "10.217" };

function lab(args: string[]): { seconds: number; status: number | null; output: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["-r", join(REPO, "scripts/launch.js"), join(REPO, "dist/lab/cli.js"), ...args], { cwd: REPO, env: ENV, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, status: r.status, output: `${r.stdout}${r.stderr}` };
}

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `median ${median.toFixed(2)} s  (min ${sorted[0].toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)})`;
}

function main(): number {
  if (process.getuid?.() !== 0) {
    console.error('bench/lab-cycle.ts needs root (network namespaces): run it as root, or sudo -E env PATH="$PATH" npx ts-node bench/lab-cycle.ts');
    return 2;
  }
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
    console.error(`rounds must be a whole number >= 1, got ${process.argv[2]}`);
    return 2;
  }
  const times: Record<"up" | "verify" | "down" | "cycle", number[]> = { up: [], verify: [], down: [], cycle: [] };
  lab(["down"]); // leftovers of an interrupted run
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const up = lab(BACKEND ? ["up", "--backend", BACKEND] : ["up"]);
      if (up.status !== 0) throw new Error(`lab up failed:\n${up.output}`);
      const verify = lab(["verify", "--requests", "100"]);
      if (verify.status !== 0) throw new Error(`lab verify exited ${verify.status}:\n${verify.output.slice(-3000)}`);
      const down = lab(["down"]);
      if (down.status !== 0) throw new Error(`lab down left something behind:\n${down.output}`);
      times.up.push(up.seconds);
      times.verify.push(verify.seconds);
      times.down.push(down.seconds);
      times.cycle.push(up.seconds + verify.seconds + down.seconds);
      console.log(`round ${round}: up ${up.seconds.toFixed(2)} s, verify ${verify.seconds.toFixed(2)} s, down ${down.seconds.toFixed(2)} s`);
    }
  } finally {
    lab(["down"]);
  }
  console.log(`\nlab cycle (${BACKEND ?? "instance-group"}) over ${ROUNDS} round(s), ${require("node:os").cpus().length} CPUs, verify with 100 requests:`);
  console.log(`  lab up      ${stats(times.up)}`);
  console.log(`  lab verify  ${stats(times.verify)}`);
  console.log(`  lab down    ${stats(times.down)}`);
  console.log(`  whole cycle ${stats(times.cycle)}  (target < ${TARGET_SECONDS} s: ${Math.max(...times.cycle) < TARGET_SECONDS ? "met" : "MISSED"})`);
  return 0;
}

process.exitCode = main();
