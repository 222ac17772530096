// `verify --snapshot` on a big cluster, as a whole process, next to the floor. The world is the REST
// stand-ins' GKE Ingress (tests/support/rest-standins/world.ts) grown to N nodes; its API answers
// are recorded into a snapshot folder by `npm run snapshot`'s own recorder, and every node gets the
// files a node prints: a REAL iptables-save (kube-proxy-style rules for S filler Services plus the
// judged Service, loaded into a throwaway network namespace with iptables-restore and saved back, as
// bench/trace-real-dump.ts does), `ip -o addr`, `ss -Hltnp`. Side by side in one run, each size:
//   verify  `node -r ./scripts/launch.js dist/verifier/cli/verify.js --snapshot DIR --ingress default/hello --json`
//   floor   `node bench/floor.js DIR/nodes/*/iptables-save.txt`: reads the N nodes' iptables-save
//           files one after another, splits each into lines and indexes the rule lines by chain:
//           the least any reader of those files does
// wall seconds and peak RSS by /usr/bin/time. The report is checked: C3 must say how many nodes it read.
// Root only (ip netns); the benchmark takes /tmp/gip-netns.lock itself while its namespace exists:
//   npm run build && npx ts-node bench/verify-scale.ts [--nodes 5,100] [--services 10000] [--runs 1] [--reuse-dump] [--keep]
// Targets (issue 18): 100 nodes x 10k Services within 3x the floor's time, peak RSS <= 600 MB and
// flat in N (5 vs 100 nodes), time linear in N.
import { execFileSync, spawnSync } from "node:child_process";
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type NatRulesSpec, writeNatRules } from "../verifier/iptables/kube-proxy-rules";
import { SnapshotRecorder } from "../verifier/snapshot/record";
import { verifyLiveIngress } from "../verifier/snapshot/run";
import { loadLiveSources, type GkeSources } from "../verifier/verify";
import { startStandins } from "../tests/e2e/gke-on-lab";
import { buildWorld, selfLink, type GkeWorld } from "../tests/support/rest-standins/world";

const REPO = join(__dirname, "..");
const OUT = join(__dirname, "out", "verify-scale");
const NS = `gipvs-bench-${process.pid}`;
const LOCK = "/tmp/gip-netns.lock";

/** The stand-ins' world with N nodes: nodes 4.. copy node 3 (no pod) under their own names and IPs. */
function grownWorld(nodes: number): GkeWorld {
  const world = buildWorld();
  const c = world.compute;
  const k = world.kube;
  const template = { instance: c.instances[2]!, node: k.nodes[2]! };
  const igLink = Object.keys(c.instanceGroupMembers)[0]!;
  for (let i = 3; i < nodes; i++) {
    const name = `${world.nodeNames[2]!.replace(/-[a-z0-9]+$/, "")}-n${String(i + 1).padStart(3, "0")}`;
    const internalIp = `10.128.${Math.floor((i + 11) / 250)}.${((i + 11) % 250) + 1}`;
    const externalIp = `34.123.${Math.floor((i + 21) / 250)}.${((i + 21) % 250) + 1}`;
    const zonePath = /zones\/[^/]+/.exec(template.instance.selfLink!)![0];
    const instance = JSON.parse(JSON.stringify(template.instance)) as typeof template.instance;
    instance.name = name;
    instance.selfLink = selfLink(c.project, `${zonePath}/instances/${name}`);
    instance.networkInterfaces![0]!.networkIP = internalIp;
    instance.networkInterfaces![0]!.accessConfigs![0]!.natIP = externalIp;
    c.instances.push(instance);
    c.instanceGroupMembers[igLink]!.push(name);
    for (const byGroup of Object.values(c.health)) {
      const entries = byGroup[igLink]!;
      entries.push({ ...entries[0]!, instance: instance.selfLink, ipAddress: internalIp });
    }
    c.guestAttributes[name] = c.guestAttributes[world.nodeNames[2]!]!;
    const node = JSON.parse(JSON.stringify(template.node)) as typeof template.node;
    node.metadata!.name = name;
    node.spec!.providerID = node.spec!.providerID!.replace(/[^/]+$/, name);
    node.spec!.podCIDR = `10.${8 + Math.floor(i / 256)}.${i % 256}.0/24`;
    node.status!.addresses = [
      { type: "InternalIP", address: internalIp },
      { type: "ExternalIP", address: externalIp },
      { type: "Hostname", address: name },
    ];
    k.nodes.push(node);
    world.nodeNames.push(name);
  }
  for (const group of c.instanceGroups) group.size = c.instanceGroupMembers[group.selfLink!]?.length ?? group.size;
  return world;
}

/** kube-proxy's rules for the judged Service (its pods as endpoints) and S filler Services (3 or 4 endpoints, the first 2700 with a NodePort). */
function natSpec(world: GkeWorld, services: number): NatRulesSpec {
  const svc = world.kube.services.find((s) => s.metadata?.name === world.serviceName)!;
  const pods = world.kube.pods.filter((p) => p.metadata?.labels?.app === svc.spec?.selector?.app && p.status?.podIP);
  const ip = (base: number, n: number) => `10.${base + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`;
  const fillerPort = (i: number) => 30000 + i + (30000 + i >= world.nodePort ? 1 : 0);
  return {
    clusterCIDR: "10.4.0.0/14",
    services: [
      {
        namespace: world.namespace,
        name: world.serviceName,
        portName: "http",
        protocol: "tcp",
        clusterIP: svc.spec!.clusterIP!,
        port: world.servicePort,
        nodePort: world.nodePort,
        endpoints: pods.map((p) => ({ ip: p.status!.podIP!, port: world.podPort })),
      },
      ...Array.from({ length: services }, (_, i) => ({
        namespace: `ns${i % 50}`,
        name: `svc${i}`,
        portName: "http",
        protocol: "tcp" as const,
        clusterIP: ip(96, i + 1),
        port: 80,
        nodePort: i < 2700 ? fillerPort(i) : undefined,
        endpoints: Array.from({ length: i % 3 === 0 ? 3 : 4 }, (_, k) => ({ ip: ip(64, 4 * i + k + 1), port: 8080 })),
      })),
    ],
  };
}

/**
 * Load the rules into a fresh namespace and save them back whole (no -t nat, as the verifier reads
 * a node). The shared namespace lock is held only while the namespace exists, not for the timings.
 */
function realDump(spec: NatRulesSpec, file: string): void {
  const rules = `${file}.rules`;
  writeFileSync(rules, writeNatRules(spec));
  try {
    const script = `ip netns add ${NS} || exit 1; ip netns exec ${NS} iptables-restore < '${rules}' && ip netns exec ${NS} iptables-save > '${file}'; rc=$?; ip netns delete ${NS}; exit $rc`;
    execFileSync("flock", [LOCK, "sh", "-c", script], { stdio: ["ignore", "inherit", "inherit"] });
  } finally {
    rmSync(rules, { force: true });
  }
}

/** The snapshot folder of an N-node world: the recorder's API answers, then each node's files (one dump, hard-linked). */
async function buildFolder(world: GkeWorld, dump: string, dir: string): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const standins = await startStandins(world);
  try {
    const live = await loadLiveSources();
    const rootUrl = `${standins.compute.url}/`;
    const sources: GkeSources = { ...live, collectLoadBalancer: (p, a, o) => live.collectLoadBalancer(p, a, { ...o, rootUrl }), fetchHostKeys: async () => new Map() };
    const recorder = new SnapshotRecorder(dir);
    await verifyLiveIngress(
      { access: { server: standins.kube.url, token: world.token }, project: world.project, location: world.zone, cluster: world.clusterName },
      { ingress: { namespace: world.namespace, name: world.ingressName }, requests: 0, timeoutMs: 8000, accessToken: world.token, noSsh: "the benchmark writes the node files itself" },
      undefined,
      recorder,
      sources,
    );
  } finally {
    await standins.close();
  }
  world.kube.nodes.forEach((node) => {
    const name = node.metadata!.name!;
    const ipAddr = node.status!.addresses!.find((a) => a.type === "InternalIP")!.address;
    const nodeDir = join(dir, "nodes", name);
    mkdirSync(nodeDir, { recursive: true });
    linkSync(dump, join(nodeDir, "iptables-save.txt"));
    writeFileSync(join(nodeDir, "ip-o-addr-show.txt"), `1: lo    inet 127.0.0.1/8 scope host lo\n2: ens4    inet ${ipAddr}/32 scope global dynamic ens4\n`);
    writeFileSync(join(nodeDir, "ss-Hltnp.txt"), `LISTEN 0      4096   0.0.0.0:22   0.0.0.0:*    users:(("sshd",pid=812,fd=3))\nLISTEN 0      4096   127.0.0.1:10249   0.0.0.0:*    users:(("kube-proxy",pid=1390,fd=11))\n`);
  });
}


interface Run {
  seconds: number;
  maxRssMB: number;
  stdout: string;
}

/** One process under /usr/bin/time: wall seconds and peak RSS; any exit status (verify exits 1/2 on a failing or unknown claim). */
function timed(cmd: string[]): Run {
  const r = spawnSync("/usr/bin/time", ["-f", "@@time %e %M", ...cmd], { cwd: REPO, encoding: "utf8", maxBuffer: 1 << 28 });
  const m = /@@time (\S+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${cmd.join(" ")}: no timing (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { seconds: Number(m[1]), maxRssMB: Number(m[2]) / 1024, stdout: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string) => (argv.indexOf(name) >= 0 ? (argv[argv.indexOf(name) + 1] as string) : dflt);
  const nodeCounts = opt("--nodes", "5,100").split(",").map(Number);
  const services = Number(opt("--services", "10000"));
  const runs = Number(opt("--runs", "1"));
  if (nodeCounts.some((n) => !Number.isInteger(n) || n < 3) || !Number.isInteger(services) || services < 0 || !Number.isInteger(runs) || runs < 1) {
    console.error("usage: npx ts-node bench/verify-scale.ts [--nodes 5,100 (each >= 3)] [--services 10000] [--runs 1]");
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error("bench/verify-scale.ts needs root (ip netns)");
    return 2;
  }
  if (!statSync(join(REPO, "dist", "verifier", "cli", "verify.js"), { throwIfNoEntry: false })) {
    console.error("build first: npm run build (the benchmark times the compiled CLI, as users run it)");
    return 2;
  }
  // once, untimed: the launcher compiles dist/ first when a source changed since the last build
  spawnSync("node", ["-r", "./scripts/launch.js", "dist/verifier/cli/verify.js", "--help"], { cwd: REPO, stdio: "ignore" });
  mkdirSync(OUT, { recursive: true });
  const floorFile = join(__dirname, "floor.js");
  const dump = join(OUT, `iptables-save-${services}.txt`);
  // --reuse-dump: the dump a previous run made for this S (the namespace is then not needed)
  if (!(argv.includes("--reuse-dump") && statSync(dump, { throwIfNoEntry: false }))) realDump(natSpec(buildWorld(), services), dump);
  const size = statSync(dump).size / 2 ** 20;
  console.log(`${services} Services + the judged one per node: a real iptables-save of ${size.toFixed(1)} MB (${readFileSync(dump, "utf8").split("\n").length} lines); ${runs} run(s) each, medians; load ${loadavg().map((l) => l.toFixed(1)).join(" ")} on ${cpus().length} CPUs; node ${process.version}`);
  console.log("nodes | verify s   MB | floor s   MB | x time  x mem | C2 / C3 verdicts, nodes read");
  const rows: { nodes: number; verify: number; verifyMB: number; floor: number; floorMB: number }[] = [];
  for (const nodes of nodeCounts) {
    const world = grownWorld(nodes);
    const dir = join(OUT, `snapshot-${nodes}x${services}`);
    await buildFolder(world, dump, dir);
    const verify: Run[] = [];
    const floor: Run[] = [];
    for (let r = 0; r < runs; r++) {
      floor.push(timed(["node", floorFile, ...readdirSync(join(dir, "nodes")).map((n) => join(dir, "nodes", n, "iptables-save.txt"))]));
      verify.push(timed(["node", "-r", "./scripts/launch.js", "dist/verifier/cli/verify.js", "--snapshot", dir, "--ingress", `${world.namespace}/${world.ingressName}`, "--json"]));
    }
    const report = JSON.parse(verify[verify.length - 1]!.stdout) as { checks: { id: string; verdict: string; summary?: string }[] };
    const claim = (id: string) => report.checks.find((c) => c.id === id);
    const row = { nodes, verify: median(verify.map((x) => x.seconds)), verifyMB: median(verify.map((x) => x.maxRssMB)), floor: median(floor.map((x) => x.seconds)), floorMB: median(floor.map((x) => x.maxRssMB)) };
    rows.push(row);
    console.log(
      `${String(nodes).padStart(5)} | ${row.verify.toFixed(2).padStart(8)} ${row.verifyMB.toFixed(0).padStart(4)} | ${row.floor.toFixed(2).padStart(7)} ${row.floorMB.toFixed(0).padStart(4)} | ${(row.verify / row.floor).toFixed(2).padStart(6)} ${(row.verifyMB / row.floorMB).toFixed(2).padStart(6)} | C2 ${claim("C2")?.verdict}, C3 ${claim("C3")?.verdict}: ${(claim("C3")?.summary ?? "").slice(0, 90)}`,
    );
    if (!argv.includes("--keep")) rmSync(dir, { recursive: true, force: true });
  }
  const a = rows[0]!;
  const b = rows[rows.length - 1]!;
  if (rows.length > 1) {
    const k = b.nodes / a.nodes;
    console.log(`growth ${a.nodes} -> ${b.nodes} nodes (x${k.toFixed(1)}): verify time x${(b.verify / a.verify).toFixed(1)}, peak RSS x${(b.verifyMB / a.verifyMB).toFixed(2)}; floor time x${(b.floor / a.floor).toFixed(1)}`);
  }
  console.log(
    `targets at ${b.nodes} nodes: time ${b.verify.toFixed(2)} s <= 3 x ${b.floor.toFixed(2)} s: ${b.verify <= 3 * b.floor ? "met" : "NOT met"}; ` +
      `peak RSS ${b.verifyMB.toFixed(0)} MB <= 600 MB: ${b.verifyMB <= 600 ? "met" : "NOT met"}` +
      (rows.length > 1 ? `; flat in N (${a.verifyMB.toFixed(0)} vs ${b.verifyMB.toFixed(0)} MB, within 1.25x): ${b.verifyMB <= 1.25 * a.verifyMB ? "met" : "NOT met"}` : ""),
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    console.error(`bench/verify-scale.ts: ${error.message}`);
    process.exitCode = 1;
  },
);
