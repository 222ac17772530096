// The three reports of one verification: terminal (the diagnosis first, the path in the article's
// order and terms, wrapped to the terminal's width, the table and tally last), JSON (schemaVersion 2
// with path and diagnosis; parses, no secrets, no raw dumps unless asked), Markdown (the diagnosis
// first, the Mermaid picture with the real values and counters).
import { runChecks } from "../../verifier/checks";
import type { Diagnosis } from "../../verifier/model";
import { renderTerminal } from "../../verifier/report/terminal";
import { gistRules } from "../../verifier/report/layout";
import { renderJson } from "../../verifier/report/json";
import { renderMarkdown } from "../../verifier/report/markdown";
import { mermaidText, renderMermaid } from "../../verifier/report/mermaid";
import { PATH_HOPS } from "../../verifier/report/path";
import { gkeModel, CLUSTER_IP, LB_IP, NODES, NODE_PORT, PODS } from "./fixtures/gke-model";

const ANSI = /\x1b\[/;
const widest = (text: string) => Math.max(...text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => [...l].length));

/** A diagnosis as the finders would give it, by hand: two causes along the path. */
const DIAGNOSIS: Diagnosis[] = [
  {
    hop: "health-check",
    subject: "k8s1-2c3d4e5f-ingress-path-hello-80-6b1e4f2a",
    cause: "health-check-path-not-200",
    summary: "The health check asks / on n-port 31846 and the pods answer 301 there, so every backend is UNHEALTHY and the LB answers 502.",
    evidence: [{ source: "compute healthChecks/k8s1-hc", detail: "requestPath=/, port=31846", resource: "k8s1-hc" }],
    fix: "give the container a readinessProbe on a path that answers 200; GKE copies it into the health check",
  },
  {
    hop: "node-forwarding",
    subject: NODES[1].name,
    cause: "forward-policy-drop",
    summary: `${NODES[1].name} DNATs n-port ${NODE_PORT} to the pods but its filter FORWARD policy is DROP, so connections it sends to pods on other nodes die there.`,
    evidence: [{ source: `node ${NODES[1].name}: iptables-save`, detail: ":FORWARD DROP [0:0]", node: NODES[1].name, line: 3, rule: ":FORWARD DROP [0:0]" }],
    fix: `sudo iptables -P FORWARD ACCEPT on ${NODES[1].name}, or allow the pod range in FORWARD`,
    claims: ["C12"],
  },
];

describe("terminal", () => {
  const model = gkeModel({ counters: true });
  const results = runChecks(model);

  test("order: blank line, header, diagnosis, path, evidence, claims table, tally last", () => {
    const text = renderTerminal(model, results, { color: false, width: 100 });
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("");
    expect(lines[1]).toMatch(/^Path from the load balancer to the pods: ingress-path-study/);
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const order = [/^Diagnosis: nothing broken, every claim holds/, /^The path, in the article's order/, /^Evidence, claim by claim/, /^claim\s+verdict\s+summary/];
    const positions = order.map(at);
    positions.forEach((p) => expect(p).toBeGreaterThan(0));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(lines[lines.length - 1]).toBe("12 pass, 0 fail, 0 cannot tell");
    expect(text).not.toMatch(ANSI);
  });

  test("the path in the article's terms, one block per node with its own counters", () => {
    const text = renderTerminal(model, results, { width: Infinity });
    expect(text).toContain(`LB public IP: ${LB_IP}:80`);
    expect(text).toContain(`named port port${NODE_PORT} = ${NODE_PORT} (n-port)`);
    for (const n of NODES) expect(text).toContain(`${n.name}  n-ip:n-port ${n.internalIp}:${NODE_PORT}`);
    expect(text).toContain(`${NODES[1].name}  n-ip:n-port ${NODES[1].internalIp}:${NODE_PORT}, runs no pod, still forwards`);
    expect(text).toContain(`(s-ip:s-port ${CLUSTER_IP}:80)`);
    // node-1's own rules send 4 to its pod and 3 to the pod on node-3, as the fixture's counters say
    expect(text).toContain(`-> KUBE-SEP-EDWA6B5VDIBQD5SP 50% DNAT p-ip:p-port ${PODS[0].ip}:8080 ${PODS[0].name}: 4 new connections`);
    expect(text).toContain(`-> KUBE-SEP-HEWFRD2WK32HJUJ3 50% DNAT p-ip:p-port ${PODS[1].ip}:8080 ${PODS[1].name} on ${NODES[2].name}: 3 new connections`);
    expect(text).toContain(`KUBE-NODEPORTS dport ${NODE_PORT} (line 34): 7 new connections`);
    expect(text).toContain(`${PODS[0].name}  p-ip:p-port ${PODS[0].ip}:8080, on ${NODES[0].name}, answered 10 of 20 requests`);
    expect(text).toContain("all nodes: 20 new connections DNATed for 20 requests");
    // what a counter step means is said once
    expect(text.split("Only a connection's first packet traverses the nat table").length).toBe(2);
  });

  test("the claims run along the path: LB first, the nodes' rules, the pods, end to end last", () => {
    const text = renderTerminal(model, results);
    const table = text.slice(text.indexOf("claim  verdict"));
    const ids = [...table.matchAll(/^(C\d+)\s/gm)].map((m) => m[1]);
    expect(ids).toEqual(["C9", "C10", "C11", "C1", "C5", "C3", "C2", "C6", "C4", "C7", "C8", "C12"]);
  });

  test("no line wider than the terminal at 80 columns, wrapped with a hanging indent, summaries never cut", () => {
    const m = gkeModel({ counters: true });
    m.problems.push({ source: "ssh", subject: NODES[1].name, message: `a long problem ${"word ".repeat(40)}`, hint: "https://example.invalid/" + "x".repeat(120) });
    const text = renderTerminal(m, runChecks(m), { width: 80, diagnosis: DIAGNOSIS });
    expect(widest(text)).toBeLessThanOrEqual(80);
    expect(text).not.toContain("…");
    // evidence continues under its own text, not at column 0
    expect(text).toMatch(/^ {4}- node gke-ingress-path-pool-5f1c2a7e-7h2m: sudo iptables-save -t nat \(runs\n {6}no pod of the Service\): line 34: KUBE-NODEPORTS tcp dport 31846 ->/m);
    // the table's summaries continue under the summary column
    expect(text).toMatch(/^C7 {5}pass {9}On every node the service chain splits new connections\n {20}\S/m);
    // coloured, the visible width is the same
    expect(widest(renderTerminal(m, runChecks(m), { width: 80, color: true, diagnosis: DIAGNOSIS }))).toBeLessThanOrEqual(80);
    // 40 columns too
    expect(widest(renderTerminal(m, runChecks(m), { width: 40, diagnosis: DIAGNOSIS }))).toBeLessThanOrEqual(40);
  });

  test("rules in brief by default, whole with full", () => {
    const brief = renderTerminal(model, results, { width: Infinity });
    expect(brief).toContain("line 34: KUBE-NODEPORTS tcp dport 31846 -> KUBE-EXT-3GVTAQ3OJ7IGI3M3");
    expect(brief).not.toContain('--comment "ingress-path/hello:http"');
    expect(brief).toContain("target=targetHttpProxies/k8s2-tp-1z8m3lqd-ingress-path-hello-q3n0a1b2");
    const full = renderTerminal(model, results, { width: Infinity, full: true });
    expect(full).toMatch(/line 34: -A KUBE-NODEPORTS -p tcp -m comment --comment "?ingress-path\/hello:http"? -m tcp --dport 31846 -j KUBE-EXT-3GVTAQ3OJ7IGI3M3/);
    expect(full).toContain("target=https://www.googleapis.com/compute/v1/projects/ingress-path-study/global/targetHttpProxies/");
  });

  test("the diagnosis comes first: hop, subject, cause, summary, evidence, fix", () => {
    const m = gkeModel({ counters: true });
    const text = renderTerminal(m, runChecks(m), { width: Infinity, diagnosis: DIAGNOSIS });
    const head = text.slice(0, text.indexOf("The path, in the article's order"));
    expect(head).toContain("Diagnosis: 2 causes, ordered from the client");
    expect(head).toContain("  1. health-check / k8s1-2c3d4e5f-ingress-path-hello-80-6b1e4f2a: health-check-path-not-200");
    expect(head).toContain(`  2. node-forwarding / ${NODES[1].name}: forward-policy-drop`);
    expect(head).toContain("     - compute healthChecks/k8s1-hc: requestPath=/, port=31846");
    expect(head).toContain(`     - node ${NODES[1].name}: iptables-save: :FORWARD DROP [0:0]`);
    expect(head).toContain("     fix: give the container a readinessProbe");
    expect(head).toMatch(/every backend is UNHEALTHY and the LB answers 502\./);
    // one cause: singular
    expect(renderTerminal(m, runChecks(m), { diagnosis: DIAGNOSIS.slice(0, 1) })).toContain("Diagnosis: 1 cause, ordered");
  });

  test("without a diagnosis, cannot-tell is not called healthy", () => {
    const m = gkeModel();
    m.nodes = [];
    m.problems.push({ source: "ssh", message: "no node answered" });
    const text = renderTerminal(m, runChecks(m));
    expect(text).toMatch(/^Diagnosis: nothing found broken, but \d+ claims cannot tell/m);
    expect(text).not.toContain("nothing broken, every claim holds");
  });

  test("colour when asked", () => {
    expect(renderTerminal(model, results, { color: true })).toMatch(ANSI);
  });

  test("NEG is explained at the top, problems near the end, extra sections before the table", () => {
    const m = gkeModel();
    m.kubernetes!.service!.annotations["cloud.google.com/neg"] = '{"ingress": true}';
    m.problems.push({ source: "ssh", subject: NODES[1].name, message: "host key mismatch", hint: "the node was recreated; run verify again" });
    const text = renderTerminal(m, runChecks(m), { width: Infinity, sections: [{ title: "Lab connection accounting", lines: ["node-1: the LB opened 1 connection"] }] });
    expect(text.split("\n").slice(0, 5).join("\n")).toContain("NOTE NEG backends detected");
    expect(text).toContain(`ssh ${NODES[1].name}: host key mismatch — the node was recreated; run verify again`);
    expect(text.indexOf("Lab connection accounting")).toBeLessThan(text.indexOf("claim  verdict"));
    expect(text.indexOf("Lab connection accounting")).toBeGreaterThan(text.indexOf("Evidence, claim by claim"));
  });
});

describe("json", () => {
  test("one object: schemaVersion 2, target, outcome, path, checks, diagnosis, connections, model without dumps or secrets", () => {
    const model = gkeModel({ counters: true });
    model.problems.push({ source: "input", message: "pasted -----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecret\n-----END OPENSSH PRIVATE KEY-----" });
    (model.target as Record<string, unknown>).kubeconfig = "apiVersion: v1 SECRETKUBE";
    const parsed = JSON.parse(renderJson(model, runChecks(model), { outcome: { exitCode: 0, reason: "all 12 claims hold" } }));
    expect(parsed.schemaVersion).toBe(2);
    expect(parsed.target.project).toBe("ingress-path-study");
    expect(parsed.outcome.exitCode).toBe(0);
    expect(parsed.checks.map((c: { id: string; verdict: string }) => `${c.id}:${c.verdict}`)).toContain("C7:pass");
    expect(parsed.diagnosis).toEqual([]);
    expect(parsed.connections.total).toBe(20);
    expect(parsed.model.nodes[0].nat).toEqual({ command: "sudo iptables-save -t nat", backend: "legacy", lines: expect.any(Number) });
    const raw = JSON.stringify(parsed);
    expect(raw).not.toContain("AAAAsecret");
    expect(raw).not.toContain("SECRETKUBE");
    expect(raw).not.toContain("# Generated by iptables-save"); // evidence quotes rules, but no dump is included
  });

  test("path: the article's hops in order with real values and per-node counters", () => {
    const model = gkeModel({ counters: true });
    const { path } = JSON.parse(renderJson(model, runChecks(model)));
    const ids: string[] = path.map((h: { hop: string }) => h.hop);
    // the article's path: no NEG hops (those replace instance-group on the container-native path)
    expect(ids).toEqual([...PATH_HOPS.filter((h) => h !== "network-endpoint-group" && h !== "endpoint"), "pod"]); // one pod hop per pod
    const hop = (id: string) => path.find((h: { hop: string }) => h.hop === id);
    expect(hop("lb-public-ip")).toMatchObject({ address: LB_IP, port: 80, verdict: "pass" });
    expect(hop("instance-group")).toMatchObject({ term: "n-port", port: NODE_PORT, name: "k8s-ig--2c3d4e5f6a7b8c9d" });
    expect(hop("kube-svc")).toMatchObject({ term: "s-ip:s-port", address: CLUSTER_IP, port: 80, name: "KUBE-SVC-3GVTAQ3OJ7IGI3M3" });
    expect(hop("node").perNode.map((s: { node: string; address: string; port: number }) => `${s.node} ${s.address}:${s.port}`)).toEqual(NODES.map((n) => `${n.name} ${n.internalIp}:${NODE_PORT}`));
    expect(hop("kube-nodeports").perNode.map((s: { newConnections: number }) => s.newConnections)).toEqual([7, 6, 7]);
    const sep = hop("kube-sep").perNode[1];
    expect(sep.node).toBe(NODES[1].name);
    expect(sep.endpoints).toEqual([
      expect.objectContaining({ chain: "KUBE-SEP-EDWA6B5VDIBQD5SP", address: PODS[0].ip, port: 8080, pod: PODS[0].name, podNode: NODES[0].name, share: 0.5, newConnections: 3, line: expect.any(Number) }),
      expect.objectContaining({ chain: "KUBE-SEP-HEWFRD2WK32HJUJ3", address: PODS[1].ip, port: 8080, pod: PODS[1].name, podNode: NODES[2].name, share: 0.5, newConnections: 3 }),
    ]);
    expect(sep.newConnections).toBe(6);
    const pods = path.filter((h: { hop: string }) => h.hop === "pod");
    expect(pods.map((p: { name: string; address: string; port: number; term: string }) => `${p.name} ${p.address}:${p.port} ${p.term}`)).toEqual(PODS.map((p) => `${p.name} ${p.ip}:8080 p-ip:p-port`));
  });

  test("path without counters has no counts (not zeros), and an unread node says why", () => {
    const model = gkeModel();
    model.nodes = model.nodes.filter((n) => n.name !== NODES[2].name);
    const { path } = JSON.parse(renderJson(model, runChecks(model)));
    const np = path.find((h: { hop: string }) => h.hop === "kube-nodeports");
    expect(np.perNode[0].newConnections).toBeUndefined();
    expect(np.perNode[2]).toMatchObject({ node: NODES[2].name, verdict: "cannot-tell", note: expect.stringContaining(NODES[2].name) });
  });

  test("evidence carries structured fields beside the prose: node, line, rule, resource, backend", () => {
    const model = gkeModel({ counters: true });
    const { checks } = JSON.parse(renderJson(model, runChecks(model)));
    const ev = (id: string) => checks.find((c: { id: string }) => c.id === id).evidence;
    expect(ev("C3")[0]).toMatchObject({ node: NODES[0].name, line: 34, rule: expect.stringMatching(/^-A KUBE-NODEPORTS .*--dport 31846/) });
    expect(ev("C7")[0]).toMatchObject({ node: NODES[0].name, line: expect.any(Number), rule: expect.stringContaining("DNAT --to-destination") });
    expect(ev("C11").find((e: { backend?: string }) => e.backend)).toMatchObject({ backend: `k8s-ig--2c3d4e5f6a7b8c9d/${NODES[0].name}`, resource: expect.stringMatching(/^k8s1-/) });
    expect(ev("C12").find((e: { rule?: string }) => e.rule)).toMatchObject({ node: NODES[0].name, line: expect.any(Number) });
  });

  test("a node whose rules miss a ready pod: its kube-sep step fails and names the pod, in JSON, terminal and picture", () => {
    const model = gkeModel();
    const nat = model.nodes[1].nat!;
    nat.text = nat.text.split("\n").filter((l) => !/^-A KUBE-SEP-HEWFRD2WK32HJUJ3 .*DNAT/.test(l)).join("\n");
    const results = runChecks(model);
    expect(results.find((r) => r.id === "C7")!.verdict).toBe("fail");
    const { path } = JSON.parse(renderJson(model, results));
    const steps = path.find((h: { hop: string }) => h.hop === "kube-sep").perNode;
    expect(steps.map((s: { verdict: string }) => s.verdict)).toEqual(["pass", "fail", "pass"]);
    expect(steps[1].note).toBe(`no KUBE-SEP rule here DNATs to ${PODS[1].ip}:8080 ${PODS[1].name}, which Kubernetes lists as ready`);
    const text = renderTerminal(model, results, { width: Infinity });
    expect(text).toMatch(new RegExp(`^ {2}FAIL {9}${NODES[1].name} {2}n-ip:n-port`, "m"));
    expect(text).toContain(`!! no KUBE-SEP rule here DNATs to ${PODS[1].ip}:8080`);
    expect(renderMermaid(model, results)).toMatch(/^ {2}class nat1 broken$/m);
  });

  test("a cause's evidence in brief: four lines, then how many more and where", () => {
    const many: Diagnosis = { ...DIAGNOSIS[0], evidence: Array.from({ length: 9 }, (_, i) => ({ source: "requests", detail: `answer ${i + 1}` })) };
    const model = gkeModel();
    const brief = renderTerminal(model, runChecks(model), { width: Infinity, diagnosis: [many] });
    expect(brief).toContain("- requests: answer 4");
    expect(brief).not.toContain("- requests: answer 5");
    expect(brief).toContain("- and 5 more lines of evidence: --full shows them, as does the claim's evidence below");
    expect(renderTerminal(model, runChecks(model), { width: Infinity, full: true, diagnosis: [many] })).toContain("- requests: answer 9");
  });

  test("a cut list of evidence reads as a cut: the rule's gist keeps the words after it, no line ends in a colon", () => {
    // As the lab's forward-drop diagnosis gives it: the walk quotes node-1's rule in parentheses and
    // goes on to say what its absence does; two more lines are past the brief's four.
    const walk = `${NODES[1].name}: the first link of the Service's path that is missing is filter FORWARD rule 2 (as ${NODES[0].name} has it: -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD): connections DNATed to the pods are dropped by the policy (1 more link after it differs; fix this one first)`;
    const cause: Diagnosis = {
      ...DIAGNOSIS[1],
      evidence: [
        { source: `node ${NODES[1].name}: iptables-save (filter table)`, detail: ":FORWARD DROP" },
        { source: `node ${NODES[1].name}: curl`, detail: "HTTP 200" },
        { source: "compute backendServices getHealth", detail: `${NODES[1].name} UNHEALTHY` },
        { source: "the walk along the Service's path", detail: walk },
        { source: "requests", detail: "answer 1" },
        { source: "requests", detail: "ends in a colon:" },
      ],
    };
    const model = gkeModel();
    const lines = renderTerminal(model, runChecks(model), { width: 100, diagnosis: [cause] }).split("\n");
    const start = lines.findIndex((l) => l.includes("the walk along the Service's path"));
    const cut = lines.findIndex((l) => l.includes("more lines of evidence"));
    expect(start).toBeGreaterThan(0);
    expect(cut).toBeGreaterThan(start);
    const item = lines.slice(start, cut).join(" ").replace(/\s+/g, " ");
    expect(item).toContain(`(as ${NODES[0].name} has it: FORWARD -> KUBE-FORWARD): connections DNATed to the pods are dropped by the policy (1 more link`);
    expect(lines[cut - 1]).not.toMatch(/:\s*$/);
    expect(lines[cut]).toBe("     - and 2 more lines of evidence: --full shows them, as does the claim's evidence below");
    // with --full nothing is cut, and a detail ending in a colon with nothing after it loses the colon
    const full = renderTerminal(model, runChecks(model), { width: Infinity, full: true, diagnosis: [cause] });
    expect(full).toMatch(/^ {5}- requests: ends in a colon$/m);
    expect(full).not.toContain("more lines of evidence");
  });

  test("gistRules: a rule ends where its quoting parenthesis, a remark or a ', ' begins", () => {
    expect(gistRules("x (as node-1 has it: -A KUBE-SEP-A5 -p tcp -m tcp -j DNAT --to-destination 10.1.67.2:8080): n-ip:n-port 10.1.0.12:30080 is refused")).toBe(
      "x (as node-1 has it: KUBE-SEP-A5 tcp -> DNAT 10.1.67.2:8080): n-ip:n-port 10.1.0.12:30080 is refused",
    );
    expect(gistRules("line 4: -A KUBE-SERVICES -p tcp -m multiport --dports 80,443 -j KUBE-SVC-X (on the clusterIP path), then more")).toBe(
      "line 4: KUBE-SERVICES tcp dports 80,443 -> KUBE-SVC-X (on the clusterIP path), then more",
    );
  });

  test("the diagnosis and the lab's accounting are carried as given", () => {
    const model = gkeModel();
    const lab = { healthChecksHeld: true, keepAlive: false, connections: [{ node: "node-1", lbProxyConnections: 34, accounted: true }] };
    const parsed = JSON.parse(renderJson(model, runChecks(model), { diagnosis: DIAGNOSIS, lab }));
    expect(parsed.diagnosis).toEqual(DIAGNOSIS);
    expect(parsed.lab).toEqual(lab);
    expect(JSON.parse(renderJson(model, runChecks(model))).lab).toBeUndefined();
  });

  test("--include-dumps keeps the nat text", () => {
    const model = gkeModel();
    const parsed = JSON.parse(renderJson(model, runChecks(model), { includeDumps: true }));
    expect(parsed.model.nodes[0].nat.text).toContain("-A KUBE-NODEPORTS");
  });

  test("the filter table's text, like the nat table's, only with --include-dumps; its command and size always", () => {
    const model = gkeModel();
    const filter = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", "COMMIT"].join("\n");
    model.nodes[1].forwarding = { ipForward: true, filter: { command: "sudo iptables-save", backend: "nft", text: filter } };
    const plain = JSON.parse(renderJson(model, runChecks(model)));
    expect(plain.model.nodes[1].forwarding).toEqual({ ipForward: true, filter: { command: "sudo iptables-save", backend: "nft", lines: 5 } });
    expect(JSON.stringify(plain)).not.toContain(":FORWARD DROP [0:0]");
    const dumped = JSON.parse(renderJson(model, runChecks(model), { includeDumps: true }));
    expect(dumped.model.nodes[1].forwarding.filter.text).toBe(filter);
  });
});

describe("markdown", () => {
  const mermaidBlock = (md: string) => /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1];

  test("the diagnosis first, then the path, the evidence, the claims table and the tally last", () => {
    const model = gkeModel({ counters: true });
    const md = renderMarkdown(model, runChecks(model), { diagnosis: DIAGNOSIS, sections: [{ title: "Lab connection accounting", lines: ["node-1: ok"] }] });
    const at = (s: string) => md.indexOf(s);
    expect(at("## Diagnosis")).toBeGreaterThan(0);
    expect(at("## Diagnosis")).toBeLessThan(at("## The path"));
    expect(at("## The path")).toBeLessThan(at("## Evidence"));
    expect(at("## Evidence")).toBeLessThan(at("## Lab connection accounting"));
    expect(at("## Lab connection accounting")).toBeLessThan(at("## Claims"));
    expect(md.trimEnd().split("\n").pop()).toBe("12 pass, 0 fail, 0 cannot tell");
    expect(md).toContain("### 2. node-forwarding / gke-ingress-path-pool-5f1c2a7e-7h2m: forward-policy-drop");
    expect(md).toContain("- node gke-ingress-path-pool-5f1c2a7e-7h2m: iptables-save: `:FORWARD DROP [0:0]`");
    expect(md).toContain("**Fix:** sudo iptables -P FORWARD ACCEPT");
    expect(md).toContain("| C3 The nodePort rules exist on every node, also on nodes without pods | **pass** |");
    // the per-node table: n-ip:n-port, counters, KUBE-SEP to pods on other nodes
    expect(md).toContain(`| ${NODES[1].name} (no pod) | ${NODES[1].internalIp}:${NODE_PORT} | line 34, dport ${NODE_PORT}: 6 new connections |`);
    expect(md).toContain(`KUBE-SEP-HEWFRD2WK32HJUJ3 50% → ${PODS[1].ip}:8080 ${PODS[1].name} on ${NODES[2].name}: 3 new connections`);
    expect(md.split("Only a connection's first packet").length).toBe(2);
  });

  test("the Mermaid picture: LB outside the cluster, each node with its own nat step and counters, KUBE-SEP edges to pods on other nodes", () => {
    const model = gkeModel({ counters: true });
    const block = mermaidBlock(renderMarkdown(model, runChecks(model)));
    expect(block).toBeDefined();
    expect(block!).toMatch(/^flowchart TB$/m);
    expect(block!).toContain(`subgraph glb["Google Cloud load balancer, outside the cluster"]`);
    expect(block!).toContain(`subgraph cluster["cluster: s-ip:s-port ${CLUSTER_IP}:80 is on no interface"]`);
    for (const text of [
      `LB public IP ${LB_IP}:80`,
      "k8s2-fr-1z8m3lqd-ingress-path-hello-q3n0a1b2",
      "k8s2-um-1z8m3lqd-ingress-path-hello-q3n0a1b2",
      "k8s1-2c3d4e5f-ingress-path-hello-80-6b1e4f2a",
      `named port port${NODE_PORT}`,
      `= n-port ${NODE_PORT}`,
      `KUBE-NODEPORTS :${NODE_PORT}`,
      "→ KUBE-EXT-3GVTAQ3OJ7IGI3M3",
      "→ KUBE-SVC-3GVTAQ3OJ7IGI3M3",
      "→ KUBE-SEP-EDWA6B5VDIBQD5SP",
      `DNAT ${PODS[0].ip}:8080`,
    ]) expect(block).toContain(text);
    // one subgraph per node, its own nat box with n-ip:n-port and its own count
    NODES.forEach((n, i) => {
      expect(block).toMatch(new RegExp(`subgraph node${i}\\["${n.name}${i === 1 ? " \\(no pod\\)" : ""}"\\]\\n\\s+nat${i}\\["n-ip:n-port<br/>${n.internalIp}:${NODE_PORT}<br/>KUBE-NODEPORTS :${NODE_PORT}<br/>${[7, 6, 7][i]} new connections`));
    });
    expect(block).toContain("class nat1 podless");
    // node-2 (no pod) sends to both pods, with its own counts
    expect(block).toContain(`nat1 -->|"50%, 3 new"| pod0`);
    expect(block).toContain(`nat1 -->|"50%, 3 new"| pod1`);
    expect(block).toContain(`pod0(["pod ${PODS[0].name}<br/>on ${NODES[0].name}<br/>p-ip:p-port<br/>${PODS[0].ip}:8080"])`);
    expect(block).toContain(`ig0 --> nat0 & nat1 & nat2`);
    // no two edges carry the same label text unless their counts say so: the n-ip:n-port is in each box
    expect(block).not.toMatch(/-->\|"n-ip:n-port"\|/);
    expect(block).toContain(`client(["client"])`);
    // every label is one quoted string: no raw quotes or angle brackets other than <br/>
    for (const label of block!.match(/"[^"]*"/g) ?? []) expect(label.replace(/<br\/>/g, "")).not.toMatch(/[<>]/);
  });

  test("a failing hop is drawn broken: the node whose n-port rule is gone", () => {
    const model = gkeModel();
    expect(renderMermaid(model, runChecks(model))).not.toMatch(/^ {2}class .* broken$/m);
    const nat = model.nodes[1].nat!;
    nat.text = nat.text.split("\n").filter((l) => !l.includes(`--dport ${NODE_PORT}`)).join("\n");
    const results = runChecks(model);
    expect(results.find((r) => r.id === "C3")!.verdict).toBe("fail");
    expect(renderMermaid(model, results)).toMatch(/^ {2}class nat1 broken$/m);
  });

  test("NEG and Dataplane V2 show in the picture", () => {
    const m = gkeModel();
    m.kubernetes!.service!.annotations["cloud.google.com/neg"] = '{"ingress": true}';
    m.kubernetes!.datapath = "dataplane-v2";
    const md = renderMarkdown(m, runChecks(m));
    const block = mermaidBlock(md)!;
    // NEG boxes and endpoint edges need the NEGs read (tests/e2e/neg-path.test.ts); here the nat boxes say they are skipped
    expect(block).toContain("not on the NEG path (skipped)");
    expect(block).toContain("Dataplane V2: no iptables");
    expect(md).toContain("> **Note:** NEG backends detected");
  });

  test("names that would break Mermaid are escaped", () => {
    expect(mermaidText('a "b" <c> #d |e')).toBe("a #quot;b#quot; #lt;c#gt; #35;d #124;e");
    const model = gkeModel();
    model.kubernetes!.pods[0].name = 'we"ird<pod>';
    const block = mermaidBlock(renderMarkdown(model, runChecks(model)))!;
    expect(block).toContain("pod we#quot;ird#lt;pod#gt;");
  });
});
