// Parse+trace benchmark: nat dumps written by writeNatRules (kube-proxy's layout) at about 1k,
// 10k and 100k rules; each size is measured in its own child process so its peak RSS is its own.
// Run: npx ts-node bench/trace-parse.ts [--runs N]
// Targets: 100k rules (10k services) parse+trace <= 500 ms and <= 200 MB.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type NatRulesSpec, writeNatRules } from "../verifier/iptables/kube-proxy-rules";
import { traceDump } from "../verifier/iptables/trace";

const OUT = join(__dirname, "out");
const SIZES = [100, 1_000, 10_000]; // services; ~10 rules each

interface Measure {
  services: number;
  rules: number;
  bytes: number;
  tracedServices: number;
  medianMs: number;
  minMs: number;
  medianCpuMs: number;
  rssBeforeMB: number;
  maxRssMB: number;
  heapDeltaMB: number;
}

/**
 * Services with two or three endpoints; the first 2767 have a NodePort (the default NodePort range
 * holds no more), every fifth of those with externalTrafficPolicy Local.
 */
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
      endpoints: Array.from({ length: i % 3 === 0 ? 3 : 2 }, (_, k) => ({ ip: ip(64, 3 * i + k + 1), port: 8080, local: i % 10 === 0 && k === 0 })),
    })),
  };
}

function measure(file: string, runs: number): Measure {
  const text = readFileSync(file, "utf8");
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  // memory: the first parse+trace in a fresh process, so the peak is this run's own
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let result: ReturnType<typeof traceDump> | undefined = traceDump(text);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const traced = result.services.length;
  if (result.warnings.length > 0) throw new Error(`unexpected warnings: ${result.warnings.slice(0, 3).join("; ")}`);
  gc?.();
  const heapRetained = process.memoryUsage().heapUsed - heapBefore;
  result = undefined;
  // time: further runs, each starting from a collected heap
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    gc?.();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    traceDump(text);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const rules = text.split("\n").filter((l) => l.startsWith("-A ")).length;
  return {
    services: 0,
    rules,
    bytes: text.length,
    tracedServices: traced,
    medianMs: times[Math.floor(times.length / 2)],
    minMs: times[0],
    medianCpuMs: cpuTimes[Math.floor(cpuTimes.length / 2)],
    rssBeforeMB: rssBefore / 2 ** 20,
    maxRssMB: maxRss / 2 ** 20,
    heapDeltaMB: heapRetained / 2 ** 20,
  };
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === "--measure") {
    process.stdout.write(JSON.stringify(measure(argv[1], Number(argv[2]))) + "\n");
    return;
  }
  const runsIdx = argv.indexOf("--runs");
  const runs = runsIdx >= 0 ? Number(argv[runsIdx + 1]) : 5;
  mkdirSync(OUT, { recursive: true });
  const rows: Measure[] = [];
  for (const services of SIZES) {
    const file = join(OUT, `trace-nat-${services}.txt`);
    writeFileSync(file, writeNatRules(spec(services)));
    const child = spawnSync(process.execPath, ["--expose-gc", "-r", "ts-node/register", __filename, "--measure", file, String(runs)], {
      cwd: join(__dirname, ".."),
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) throw new Error(`measuring ${services} services failed:\n${child.stderr}`);
    rows.push({ ...(JSON.parse(child.stdout) as Measure), services });
  }
  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(`parse+trace of writeNatRules dumps (iptables-save format), one child process per size: memory of its first run, time median of ${runs} more`);
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs (wall time suffers when the machine is busy; CPU time less so)`);
  console.log("services   rules  MB dump  traced  wall median  min  CPU median  result MB  RSS before  peak RSS  RSS used MB");
  for (const r of rows) {
    console.log(
      `${String(r.services).padStart(8)} ${String(r.rules).padStart(7)} ${f(r.bytes / 2 ** 20, 2).padStart(8)} ${String(r.tracedServices).padStart(7)} ${f(r.medianMs).padStart(12)} ${f(r.minMs).padStart(5)} ${f(r.medianCpuMs).padStart(11)} ${f(r.heapDeltaMB).padStart(10)} ${f(r.rssBeforeMB).padStart(11)} ${f(r.maxRssMB).padStart(9)} ${f(r.maxRssMB - r.rssBeforeMB).padStart(12)}`,
    );
  }
  const a = rows[0];
  const b = rows[rows.length - 1];
  console.log(
    `growth ${a.rules} -> ${b.rules} rules (x${f(b.rules / a.rules, 0)}): wall x${f(b.medianMs / a.medianMs)}, CPU x${f(b.medianCpuMs / a.medianCpuMs)}, RSS used x${f((b.maxRssMB - b.rssBeforeMB) / Math.max(1, a.maxRssMB - a.rssBeforeMB))}`,
  );
  // RSS used = peak RSS minus the RSS once the runtime (ts-node) and the dump text are loaded
  const used = b.maxRssMB - b.rssBeforeMB;
  console.log(`target at ${b.rules} rules: <= 500 ms (wall ${f(b.medianMs)}, CPU ${f(b.medianCpuMs)}) and <= 200 MB for parse+trace (${f(used)} MB): ${b.medianMs <= 500 && used <= 200 ? "met" : "NOT met"}`);
}

main();
