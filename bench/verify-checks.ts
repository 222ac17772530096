// How long the pure part of `npm run verify` takes (checks C1..C12 + the three reports) as the
// nodes' nat tables grow: 3 nodes, each with the study Service plus S other services of 2
// endpoints each, written by the kube-proxy rule writer, with `-c` counters before/after.
// Usage: npx ts-node bench/verify-checks.ts [S...]   (default 10 1000 5000); prints a table
// ("again" = median of 4 repeats on the same model).
import { performance } from "node:perf_hooks";
import { writeNatRules, type NatServiceSpec } from "../verifier/iptables/kube-proxy-rules";
import { runChecks } from "../verifier/checks";
import { renderTerminal } from "../verifier/report/terminal";
import { renderJson } from "../verifier/report/json";
import { renderMarkdown } from "../verifier/report/markdown";
import { gkeModel, PODS, CLUSTER_IP, NODE_PORT } from "../tests/verifier/fixtures/gke-model";

function dump(others: number, counted: boolean, bump: number): string {
  const services: NatServiceSpec[] = [
    { namespace: "ingress-path", name: "hello", portName: "http", protocol: "tcp", clusterIP: CLUSTER_IP, port: 80, nodePort: NODE_PORT, endpoints: PODS.map((p) => ({ ip: p.ip, port: 8080, nodeName: p.nodeName })) },
  ];
  for (let i = 0; i < others; i++) {
    services.push({
      namespace: `ns${i % 50}`,
      name: `svc${i}`,
      protocol: "tcp",
      clusterIP: `10.13.${(i >> 8) & 255}.${i & 255}`,
      port: 80,
      nodePort: 30000 + (i % 2700) === NODE_PORT ? undefined : 30000 + (i % 2700),
      endpoints: [0, 1].map((e) => ({ ip: `10.9.${(i >> 7) & 255}.${((i & 127) << 1) + e}`, port: 8080 })),
    });
  }
  const text = writeNatRules({ services, clusterCIDR: "10.8.0.0/14" });
  // iptables-save -c prefixes each rule with [packets:bytes]; give the study Service's DNAT rules a count.
  return counted ? text.replace(/^-A /gm, (_m, off: number) => (text.slice(off, text.indexOf("\n", off)).includes("DNAT --to-destination 10.8.") ? `[${bump}:${bump * 60}] -A ` : "[0:0] -A ")) : text;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const sizes = process.argv.slice(2).map(Number).filter((n) => n >= 0);
console.log("first run: every dump traced and every counter pair diffed once; then the same model again (memoised traces)");
console.log("services/node  rules/node  first: runChecks ms  terminal ms  json ms  markdown ms   again: runChecks ms  reports ms");
for (const others of sizes.length ? sizes : [10, 1000, 5000]) {
  const model = gkeModel({ counters: true });
  const nat = dump(others, false, 0);
  model.nodes.forEach((n, i) => {
    n.nat!.text = nat;
    n.countersBefore!.text = dump(others, true, 100 + i);
    n.countersAfter!.text = dump(others, true, 107 + i);
  });
  const t = { checks: [] as number[], term: [] as number[], json: [] as number[], md: [] as number[] };
  let verdicts = "";
  for (let run = 0; run < 5; run++) {
    let a = performance.now();
    const results = runChecks(model);
    t.checks.push(performance.now() - a);
    verdicts = results.map((r) => r.verdict[0]).join("");
    a = performance.now();
    renderTerminal(model, results);
    t.term.push(performance.now() - a);
    a = performance.now();
    renderJson(model, results);
    t.json.push(performance.now() - a);
    a = performance.now();
    renderMarkdown(model, results);
    t.md.push(performance.now() - a);
  }
  const rules = nat.split("\n").filter((l) => l.startsWith("-A ")).length;
  const cell = (x: number, w: number) => x.toFixed(1).padStart(w);
  const again = t.checks.slice(1);
  const reportsAgain = t.term.slice(1).map((x, i) => x + t.json[i + 1] + t.md[i + 1]);
  console.log(
    `${String(others + 1).padStart(13)}  ${String(rules).padStart(10)}  ${cell(t.checks[0], 19)}  ${cell(t.term[0], 11)}  ${cell(t.json[0], 7)}  ${cell(t.md[0], 11)}   ${cell(median(again), 17)}  ${cell(median(reportsAgain), 10)}  verdicts ${verdicts}`,
  );
}
