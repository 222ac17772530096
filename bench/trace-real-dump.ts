// The offline trace on REAL saved dumps: kube-proxy-style nat rules (writeNatRules, 3 or 4
// endpoints per Service, 2767 NodePorts) are loaded into a throwaway network namespace with
// `iptables-restore` and saved back with `iptables-save -t nat`, so the text is what a node prints
// (iptables-save's own option order and quoting), not the writer's. For each size, side by side in
// the same run, three processes are timed (wall, and peak RSS by /usr/bin/time):
//   trace   `npm run --silent trace -- DUMP --json > /dev/null`, the user's command, start-up included
//   floor   `node bench/floor.js DUMP`: reads the file, splits it into lines and indexes the rule lines by
//           chain (a Map of chain -> line numbers), the least any reader of the dump must do
//   inproc  traceDump + the contract JSON inside one process, after start-up (the tracer's own cost,
//           stable whatever starts the CLI)
// Root only (ip netns); run under the shared lock:
//   flock /tmp/gip-netns.lock npx ts-node bench/trace-real-dump.ts [--runs 3] [--sizes 1000,2500,5000,10000]
// Targets: at 10k Services the trace process <= 3x the floor's wall time and <= 2x its peak RSS;
// time and memory grow linearly from 1k to 10k.
// The answer must not change with speed: the CLI's `--json` output of each size is compared byte
// for byte (by sha256) with what the CLI printed before its reader was rebuilt for speed (EXPECTED,
// recorded at commit bb7e901), and with the in-process answer; any difference stops the bench.
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type NatRulesSpec, writeNatRules } from "../verifier/iptables/kube-proxy-rules";
import { ContractJsonWriter, prepareDump, streamPrepared } from "../verifier/iptables/trace";

const REPO = join(__dirname, "..");

/** sha256 of `trace DUMP --json` per size, as the CLI printed it at commit bb7e901 (before the fast reader). */
const EXPECTED: Record<number, string> = {
  1000: "f8205898c20f02da2c43d37c1ed0e2e341356fc132741d6beac224349b8f1b6b",
  2500: "4bda830c0e9fb03161e61137222ce0c6121ebb179fa37a1bd8860c226f2c7186",
  5000: "74b7a7913401177581ac058590005c23cc923ce6fbc28886489744d0307fa4e3",
  10000: "0f9e015732fd46714852c8c52ddd85090d6e239500cf1838224e3185bc69e171",
};
const OUT = join(__dirname, "out");
const NS = `gipt8-bench-${process.pid}`;

/** Services with 3 or 4 endpoints; the first 2767 have a NodePort (the default range holds no more), every fifth of them Local. */
function spec(services: number): NatRulesSpec {
  const ip = (base: number, n: number) => `10.${base + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
  return {
    clusterCIDR: "10.64.0.0/10",
    services: Array.from({ length: services }, (_, i) => ({
      namespace: `ns${i % 50}`,
      name: `svc${i}`,
      portName: "http",
      protocol: "tcp" as const,
      clusterIP: ip(96, i + 1),
      port: 80,
      nodePort: i < 2767 ? 30000 + i : undefined,
      externalTrafficPolicy: i % 5 === 0 ? ("Local" as const) : ("Cluster" as const),
      endpoints: Array.from({ length: i % 3 === 0 ? 3 : 4 }, (_, k) => ({ ip: ip(64, 4 * i + k + 1), port: 8080, local: i % 10 === 0 && k === 0 })),
    })),
  };
}

/** Load the rules into a fresh namespace and save them back: the real kernel's and iptables-save's text. */
function realDump(services: number): string {
  const rules = join(OUT, `real-${services}.rules`);
  const dump = join(OUT, `real-${services}.iptables-save-nat.txt`);
  writeFileSync(rules, writeNatRules(spec(services)));
  execFileSync("ip", ["netns", "add", NS]);
  try {
    execFileSync("ip", ["netns", "exec", NS, "iptables-restore"], { input: readFileSync(rules), maxBuffer: 1 << 30 });
    const saved = execFileSync("ip", ["netns", "exec", NS, "iptables-save", "-t", "nat"], { maxBuffer: 1 << 30 });
    writeFileSync(dump, saved);
  } finally {
    execFileSync("ip", ["netns", "delete", NS]);
  }
  return dump;
}


interface Run {
  seconds: number;
  maxRssMB: number;
}

/** One process under /usr/bin/time: wall seconds and the peak RSS of its biggest process (getrusage of children). */
function timed(cmd: string[], stdoutTo = "/dev/null"): Run {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", "sh", "-c", `"$@" > ${stdoutTo}`, "sh", ...cmd], { cwd: REPO, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed (${r.status}):\n${r.stderr}`);
  const last = r.stderr.trim().split("\n").pop()!.split(" ");
  return { seconds: Number(last[0]), maxRssMB: Number(last[1]) / 1024 };
}

interface InProcess {
  ms: number;
  cpuMs: number;
  rssBeforeMB: number;
  maxRssMB: number;
  services: number;
  unresolved: number;
  warnings: number;
  /** sha256 of the contract JSON it wrote */
  sha256: string;
}

/** Child mode: the tracer's own time and memory, after start-up and after the file is read. */
function inProcess(file: string): InProcess {
  const text = readFileSync(file, "utf8");
  const rssBefore = process.memoryUsage().rss;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // as the CLI does it: traced and written service by service (here into a hash)
  const hash = createHash("sha256");
  let length = 0;
  let services = 0;
  let unresolved = 0;
  const prepared = prepareDump(text);
  const out = new ContractJsonWriter(prepared.format ?? "iptables-save", (chunk) => {
    hash.update(chunk);
    length += chunk.length;
  });
  const { warnings } = streamPrepared(prepared, { evidence: false }, (s) => {
    services++;
    if (s.unresolved.length > 0 || (s.nodePortUnresolved?.length ?? 0) > 0) unresolved++;
    out.service(s);
  });
  out.end(warnings);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  if (length === 0) throw new Error("no output");
  return {
    ms,
    cpuMs: (c.user + c.system) / 1000,
    rssBeforeMB: rssBefore / 2 ** 20,
    maxRssMB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    services,
    unresolved,
    warnings: warnings.length,
    sha256: hash.digest("hex"),
  };
}

const median = <T>(xs: T[], key: (x: T) => number): number => xs.map(key).sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): number {
  const argv = process.argv.slice(2);
  if (argv[0] === "--inprocess") {
    process.stdout.write(JSON.stringify(inProcess(argv[1])) + "\n");
    return 0;
  }
  if (process.getuid?.() !== 0) {
    console.error("bench/trace-real-dump.ts needs root (ip netns): flock /tmp/gip-netns.lock npx ts-node bench/trace-real-dump.ts");
    return 2;
  }
  const opt = (name: string, dflt: string) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : dflt);
  const runs = Number(opt("--runs", "3"));
  const sizes = opt("--sizes", "1000,2500,5000,10000").split(",").map(Number);
  mkdirSync(OUT, { recursive: true });
  const floorFile = join(__dirname, "floor.js");

  console.log(`real dumps (iptables-restore into netns ${NS}, then iptables-save -t nat); ${runs} runs each, medians; load ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs`);
  // the CLI's start-up alone (npm + the runtime that runs verifier/cli/trace.ts), to tell it from the tracer's cost
  const startup = Array.from({ length: runs }, () => timed(["npm", "run", "--silent", "trace", "--", "--help"]));
  console.log(`start-up of \`npm run --silent trace -- --help\`: ${median(startup, (x) => x.seconds).toFixed(2)} s, ${median(startup, (x) => x.maxRssMB).toFixed(0)} MB peak RSS`);
  console.log("services    rules     MB | trace s  MB | floor s  MB | x time  x mem | in-process ms  cpu ms  RSS+ MB | traced  unknown  warnings");
  const rows: { services: number; trace: number; floor: number; inproc: number; traceMB: number; floorMB: number; inprocMB: number }[] = [];
  for (const services of sizes) {
    const dump = realDump(services);
    const text = readFileSync(dump, "utf8");
    const rules = text.split("\n").filter((l) => l.startsWith("-A ")).length;
    // the floor must really read this dump: as many chains as iptables-save declares
    const chains = Number(/^(\d+) chains/.exec(execFileSync("node", [floorFile, dump], { encoding: "utf8" }))?.[1] ?? 0);
    const declared = text.split("\n").filter((l) => l.startsWith(":KUBE-")).length;
    if (chains < declared * 0.9) throw new Error(`the floor indexed ${chains} chains, the dump declares ${declared}`);
    const trace: Run[] = [];
    const floor: Run[] = [];
    const inproc: InProcess[] = [];
    const answer = join(OUT, `real-${services}.trace.json`);
    for (let r = 0; r < runs; r++) {
      // interleaved, so a busy moment on the shared machine hits both sides alike
      floor.push(timed(["node", floorFile, dump]));
      trace.push(timed(["npm", "run", "--silent", "trace", "--", dump, "--json"], r === 0 ? answer : "/dev/null"));
      const child = spawnSync(process.execPath, ["-r", "ts-node/register", __filename, "--inprocess", dump], { cwd: REPO, encoding: "utf8", maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`in-process run failed:\n${child.stderr}`);
      inproc.push(JSON.parse(child.stdout) as InProcess);
    }
    const t = median(trace, (x) => x.seconds);
    const tm = median(trace, (x) => x.maxRssMB);
    const f = median(floor, (x) => x.seconds);
    const fm = median(floor, (x) => x.maxRssMB);
    const ip = median(inproc, (x) => x.ms);
    const ipc = median(inproc, (x) => x.cpuMs);
    const ipm = median(inproc, (x) => x.maxRssMB - x.rssBeforeMB);
    const last = inproc[inproc.length - 1];
    const cliSha = createHash("sha256").update(readFileSync(answer)).digest("hex");
    const problems = [
      ...(EXPECTED[services] !== undefined && cliSha !== EXPECTED[services] ? [`the CLI's answer (${answer}, sha256 ${cliSha}) differs from the one recorded before the fast reader (${EXPECTED[services]})`] : []),
      ...inproc.filter((x) => x.sha256 !== cliSha).map((x) => `the in-process answer (sha256 ${x.sha256}) differs from the CLI's (${cliSha})`),
    ];
    if (problems.length > 0) throw new Error(`${services} Services: THE TRACE'S ANSWER CHANGED:\n  ${problems.join("\n  ")}`);
    if (EXPECTED[services] === undefined) console.log(`(${services} Services: no recorded answer to compare with; the CLI's and the in-process answers agree)`);
    rows.push({ services, trace: t, floor: f, inproc: ip, traceMB: tm, floorMB: fm, inprocMB: ipm });
    console.log(
      `${String(services).padStart(8)} ${String(rules).padStart(8)} ${(statSync(dump).size / 2 ** 20).toFixed(1).padStart(6)} | ${t.toFixed(2).padStart(7)} ${tm.toFixed(0).padStart(4)} | ${f.toFixed(2).padStart(7)} ${fm.toFixed(0).padStart(4)} | ${(t / f).toFixed(2).padStart(6)} ${(tm / fm).toFixed(2).padStart(6)} | ${ip.toFixed(0).padStart(13)} ${ipc.toFixed(0).padStart(7)} ${ipm.toFixed(0).padStart(8)} | ${String(last.services).padStart(6)} ${String(last.unresolved).padStart(8)} ${String(last.warnings).padStart(9)}`,
    );
  }
  const a = rows[0];
  const b = rows[rows.length - 1];
  const k = b.services / a.services;
  console.log(
    `growth ${a.services} -> ${b.services} Services (x${k.toFixed(1)}): in-process time x${(b.inproc / a.inproc).toFixed(1)}, RSS+ x${(b.inprocMB / Math.max(1, a.inprocMB)).toFixed(1)}; ` +
      `above start-up (trace minus floor) x${((b.trace - b.floor) / Math.max(0.001, a.trace - a.floor)).toFixed(1)}`,
  );
  const timeOk = b.trace <= 3 * b.floor;
  const memOk = b.traceMB <= 2 * b.floorMB;
  console.log(`target at ${b.services} Services: time ${b.trace.toFixed(2)} s <= 3 x ${b.floor.toFixed(2)} s: ${timeOk ? "met" : "NOT met"}; peak RSS ${b.traceMB.toFixed(0)} MB <= 2 x ${b.floorMB.toFixed(0)} MB: ${memOk ? "met" : "NOT met"}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`bench/trace-real-dump.ts: ${(err as Error).message}`);
  process.exitCode = 1;
}
