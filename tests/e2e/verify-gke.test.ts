// `npm run verify`'s live path end to end: verifyGke with the real sources (Kubernetes client,
// Compute client, ssh2, HTTP requests) against real local stand-ins. The nodes are the lab's
// network namespaces (gipe-, 10.218.0.0/16): sshd on each node's "external IP", kube-proxy nat
// rules written by writeNatRules and loaded with iptables-restore, two pod servers. The Compute and
// Kubernetes REST stand-ins serve a world whose IPs, host keys (guest attributes), Service and pods
// are those of the namespaces. The requests go from this process to node-2's n-port (the node
// without a pod) and really cross its nat table, so C12's counters are real too; only the hop
// "public IP -> node" is skipped (the LB's public IP is not reachable from the root namespace).
import type { CheckResult } from "../../verifier/model";
import { labDown, type DownReport } from "../../lab/down";
import { killPid } from "../../lab/netns";
import { readClientKey } from "../../lab/state";
import { labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { renderJson } from "../../verifier/report/json";
import { renderMarkdown } from "../../verifier/report/markdown";
import { renderTerminal } from "../../verifier/report/terminal";
import { fingerprint } from "../../verifier/sources/ssh";
import type { StackOutputs } from "../../verifier/sources/types";
import { verifyGke, type VerifyOutcome } from "../../verifier/verify";
import type { StandinRequest } from "../support/rest-standins/http";
import { withNegBackend, type GkeWorld } from "../support/rest-standins/world";
import { describeWithNamespaces } from "../support/namespaces";
import { firstBootConsole } from "../support/serial-console";
import { outputsFor, sourcesAgainst, startStandins, worldOnLab } from "./gke-on-lab";

const t = labTopology({ prefix: "gipe-", net: "10.218" });
const REQUESTS = 20;
/** node-2 runs no pod: its n-port must still forward (the article's VM-2) */
const VIA_NODE = t.nodes[1];
const URL_VIA_NODE_2 = `http://${VIA_NODE.externalIp}:${t.service.nodePort}/`;

jest.setTimeout(120_000);


interface Run {
  outcome: VerifyOutcome;
  outputs: StackOutputs;
  hops: string[];
  computeRequests: StandinRequest[];
  kubeRequests: StandinRequest[];
  computeCalls: string[];
  reports: { markdown: string; json: string; jsonWithDumps: string; terminal: string };
}

const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.verdict]));
const byId = (outcome: VerifyOutcome, id: string) => outcome.results.find((r) => r.id === id)!;
const evidenceText = (r: CheckResult) => r.evidence.map((e) => `${e.source}: ${e.detail}`).join("\n");
const keyBlob = (line: string) => Buffer.from(line.split(/\s+/)[1], "base64");

// Skips with a loud warning when not root (or netns, iptables, sshd are missing); CI runs it as root.
describeWithNamespaces("npm run verify, live sources, against namespaced nodes and REST stand-ins (gipe-, 10.218.0.0/16)", () => {
  let hostKeys: Record<string, string> = {};
  let clientKey = "";
  let down: DownReport | undefined;

  beforeAll(async () => {
    await labDown(t); // leftovers of a killed run with this prefix
    // lab up checks root, tools and that 10.218.0.0/16 collides with no host address or route.
    const up = await labUp(t);
    hostKeys = up.state.hostKeys;
    // The lab's LB health-checks every node's n-port each second; stopped, nothing but this test's
    // requests moves the nat counters, so they can be compared exactly with the answers.
    await killPid(up.state.pids.lb);
    clientKey = readClientKey(t) ?? "";
    expect(clientKey).toContain("BEGIN OPENSSH PRIVATE KEY");
  });

  afterAll(async () => {
    down = await labDown(t);
    if (down.leftovers.length > 0) throw new Error(`gipe- lab not cleaned: ${down.leftovers.join("; ")}`);
  });

  async function verify(world: GkeWorld, requests: number): Promise<Run> {
    const standins = await startStandins(world);
    try {
      const outputs = outputsFor(world, standins.kube.url, URL_VIA_NODE_2, clientKey);
      const sources = await sourcesAgainst(standins.compute.url);
      const hops: string[] = [];
      const outcome = await verifyGke(
        outputs,
        // --access-token: the token the stand-ins accept; Application Default Credentials stay unread
        { requests, keepAlive: false, transport: "direct", timeoutMs: 8000, accessToken: world.token },
        { hop: (name, state, detail) => hops.push(`${name}:${state}${detail ? ` ${detail}` : ""}`) },
        sources,
      );
      const reports = {
        markdown: renderMarkdown(outcome.model, outcome.results),
        json: renderJson(outcome.model, outcome.results, { outcome: { exitCode: outcome.exitCode, reason: outcome.reason } }),
        jsonWithDumps: renderJson(outcome.model, outcome.results, { includeDumps: true }),
        terminal: renderTerminal(outcome.model, outcome.results),
      };
      return { outcome, outputs, hops, computeRequests: [...standins.compute.requests], kubeRequests: [...standins.kube.requests], computeCalls: sources.computeCalls, reports };
    } finally {
      await standins.close();
    }
  }

  /** No report shows the SSH private key, the kubeconfig or the access token, whole or in part. */
  function expectNoSecrets(run: Run): void {
    const secretBits = [
      run.outputs.sshPrivateKey,
      ...run.outputs.sshPrivateKey.split("\n").filter((l) => l.length >= 40), // the key's base64 lines
      run.outputs.kubeconfig,
      "e2e-kubeconfig-secret-marker",
      "ZTJlLWR1bW15LWNhLWRhdGEtbm90LWEtY2VydA==", // the kubeconfig's CA data
      "ya29.standin-token",
    ];
    for (const [name, text] of Object.entries({ ...run.reports, problems: JSON.stringify(run.outcome.model.problems) })) {
      for (const bit of secretBits) expect({ report: name, leaks: text.includes(bit) ? bit.slice(0, 30) : false }).toEqual({ report: name, leaks: false });
    }
  }

  test("the article's world (instance group): all 12 claims pass from what the nodes, APIs and pods really said", async () => {
    const run = await verify(worldOnLab(t, hostKeys), REQUESTS);
    const { outcome } = run;
    const notPassing = outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id} ${r.verdict}: ${r.summary}`);
    expect(notPassing).toEqual([]);
    expect(outcome.results.map((r) => r.id)).toEqual(["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12"]);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.model.problems).toEqual([]);

    // Both APIs were read with the bearer token; the host keys came from the guest attributes.
    expect(run.computeCalls).toEqual(["collectLoadBalancer", "fetchHostKeys"]);
    expect(run.kubeRequests.length).toBeGreaterThanOrEqual(6);
    expect(run.kubeRequests.every((r) => r.headers.authorization === "Bearer ya29.standin-token-7f3b")).toBe(true);
    expect(run.computeRequests.every((r) => r.headers.authorization === "Bearer ya29.standin-token-7f3b")).toBe(true);
    const guestReads = run.computeRequests.filter((r) => r.path.endsWith("/getGuestAttributes"));
    expect(guestReads.map((r) => [r.path.split("/")[8], r.query.get("queryPath")]).sort()).toEqual(t.nodes.map((n) => [n.name, "hostkeys/"]));

    // Every node was read over SSH (direct, its external IP, host key verified) from its namespace.
    for (const labNode of t.nodes) {
      const node = outcome.model.nodes.find((n) => n.name === labNode.name)!;
      expect({ name: node.name, reachable: node.reachable, hostKeyVerified: node.hostKeyVerified, transport: node.transport, sshAddress: node.sshAddress })
        .toEqual({ name: labNode.name, reachable: true, hostKeyVerified: true, transport: "direct", sshAddress: labNode.externalIp });
      expect(node.addresses?.map((a) => a.address)).toEqual(expect.arrayContaining([labNode.internalIp, labNode.externalIp]));
      expect(node.listeners?.some((l) => l.port === 22 && l.address === labNode.externalIp)).toBe(true);
      expect(node.nat?.text).toContain(`--dport ${t.service.nodePort}`);
      expect(node.countersBefore?.text).toMatch(/^\[\d+:\d+\] -A KUBE-/m);
    }
    // The evidence quotes what the namespaces hold: their interface names and the rules loaded there.
    expect(evidenceText(byId(outcome, "C4"))).toContain(`gipe-n2 ${VIA_NODE.internalIp}/24`);
    expect(evidenceText(byId(outcome, "C3"))).toMatch(/node node-2: .*\(runs no pod of the Service\): line \d+: -A KUBE-NODEPORTS .*--dport 30080/);
    expect(byId(outcome, "C7").summary).toContain(`${t.pods[0].ip}:${t.service.podPort} 50%, ${t.pods[1].ip}:${t.service.podPort} 50%`);

    // C12: every request answered 200 by one of the two pods; node-2's counters moved once per
    // request (a new connection each), split between the pods exactly as the answers were.
    const results = outcome.model.requests!.results;
    expect(results).toHaveLength(REQUESTS);
    expect(results.every((r) => r.status === 200)).toBe(true);
    const answeredBy = (pod: string) => results.filter((r) => r.podName === pod).length;
    const [pod1, pod2] = t.pods.map((p) => answeredBy(p.name));
    expect(pod1 + pod2).toBe(REQUESTS);
    expect(pod1).toBeGreaterThan(0); // both at 1/2: all 20 to one pod has probability 2^-19
    expect(pod2).toBeGreaterThan(0);
    const c12 = evidenceText(byId(outcome, "C12"));
    expect(c12).toContain(`node node-2: iptables-save -c -t nat before/after: +${REQUESTS} new connections entered by nodePort`);
    expect(c12).toContain(`+${pod1} new connections to ${t.pods[0].ip}:${t.service.podPort} (pod-1)`);
    expect(c12).toContain(`+${pod2} new connections to ${t.pods[1].ip}:${t.service.podPort} (pod-2)`);
    expect(c12).toMatch(/node node-1: .*no DNAT rule of the Service moved/);
    expect(c12).toMatch(/node node-3: .*no DNAT rule of the Service moved/);
    // honest about the skipped hop: the URL is a node's n-port, not the forwarding rule's IP
    expect(c12).toContain(`note: ${VIA_NODE.externalIp} is not the forwarding rule's IP ${run.outputs.loadBalancerIp}`);

    // The reports render the real values and nothing secret.
    expect(run.reports.markdown).toContain("```mermaid");
    expect(run.reports.markdown).toContain(t.service.clusterIP);
    expect(run.reports.markdown).toContain(VIA_NODE.externalIp);
    expect(JSON.parse(run.reports.json).outcome).toEqual({ exitCode: 0, reason: "all 12 claims hold" });
    expect(run.reports.terminal).toContain("C12");
    expectNoSecrets(run);
  });

  test("backendMode neg: the NEG path judged hop by hop (C1, C10, C11 pass), the nat claims stay facts of the cluster, exit 0", async () => {
    const run = await verify(withNegBackend(worldOnLab(t, hostKeys)), REQUESTS);
    const { outcome } = run;
    const notPassing = outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id} ${r.verdict}: ${r.summary}`);
    expect(notPassing).toEqual([]);
    expect(byId(outcome, "C1").summary).toContain("The LB's backends are pods");
    for (const id of ["C2", "C3", "C6", "C7"]) expect(byId(outcome, id).summary).toMatch(/^Fact of the cluster, not a hop of the NEG path: /);
    expect(evidenceText(byId(outcome, "C11"))).toContain("cloud.google.com/load-balancer-neg-ready");
    // this test's requests go to node-2's n-port (the LB's public IP is not reachable here): the
    // counters say so, instead of claiming the NEG contrast
    expect(byId(outcome, "C12").summary).toContain("these requests entered by n-port, not through the NEG");
    expect(outcome.exitCode).toBe(0);
    expect(outcome.model.nodes.filter((n) => n.reachable && n.hostKeyVerified)).toHaveLength(3);
    expect(run.reports.markdown).toContain("NEG");
    expect(JSON.parse(run.reports.json).path.map((h: { hop: string }) => h.hop)).toEqual(expect.arrayContaining(["network-endpoint-group", "endpoint"]));
    expectNoSecrets(run);
  });

  test("a node offering another host key than its guest attributes is refused; the other nodes are still read", async () => {
    const world = worldOnLab(t, hostKeys);
    // node-3's guest attributes carry node-1's (real, valid) key: the sshd at node-3's IP doesn't have it
    world.compute.guestAttributes["node-3"] = world.compute.guestAttributes["node-1"];
    const run = await verify(world, REQUESTS);
    const { outcome } = run;
    expect(verdicts(outcome.results)).toEqual({
      C1: "pass", C2: "cannot-tell", C3: "cannot-tell", C4: "cannot-tell", C5: "cannot-tell", C6: "cannot-tell", C7: "cannot-tell",
      C8: "pass", C9: "pass", C10: "pass", C11: "pass", C12: "pass",
    });
    const node3 = outcome.model.nodes.find((n) => n.name === "node-3")!;
    expect({ reachable: node3.reachable, verified: node3.hostKeyVerified ?? false, nat: node3.nat }).toEqual({ reachable: false, verified: false, nat: undefined });
    const mismatch = `host key mismatch: ${t.nodes[2].externalIp} offered ssh-ed25519 ${fingerprint(keyBlob(hostKeys["node-3"]))}, expected one of ssh-ed25519 ${fingerprint(keyBlob(hostKeys["node-1"]))}`;
    expect(outcome.model.problems).toEqual([expect.objectContaining({ source: "ssh", subject: "node-3", message: expect.stringContaining(mismatch) })]);
    for (const id of ["C2", "C3", "C4", "C5", "C6", "C7"]) {
      const r = byId(outcome, id);
      expect(r.summary).toContain(mismatch);
      // node-1 and node-2 were still read and quoted; nothing from node-3
      expect(r.evidence.some((e) => e.source.startsWith("node node-1:"))).toBe(true);
      expect(r.evidence.some((e) => e.source.startsWith("node node-2:"))).toBe(true);
      expect(r.evidence.some((e) => e.source.startsWith("node node-3:") && !/not read/.test(e.detail))).toBe(false);
    }
    expect(outcome.exitCode).toBe(2);
    expect(outcome.reason).toContain("could not verify C2, C3, C4, C5, C6, C7: ssh: host key mismatch");
    expectNoSecrets(run);
  });

  test("a node without guest attributes: the Compute API's reason and hint reach the report, SSH refuses it, the others are read", async () => {
    const world = worldOnLab(t, hostKeys);
    world.compute.instances[1].metadata = { items: [] }; // node-2 without enable-guest-attributes=TRUE
    const run = await verify(world, 0);
    const { outcome } = run;
    expect(outcome.model.nodes.filter((n) => n.reachable).map((n) => n.name)).toEqual(["node-1", "node-3"]);
    const aboutNode2 = outcome.model.problems.filter((p) => p.subject === "node-2");
    expect(aboutNode2).toEqual([
      expect.objectContaining({ source: "gcp", message: expect.stringContaining("host keys of node-2"), hint: expect.stringContaining("enable-guest-attributes=TRUE") }),
      // The second source was asked too: its serial console holds no host key block here.
      expect.objectContaining({ source: "gcp", message: expect.stringContaining("node-2 printed no SSH host keys on its serial console"), hint: expect.stringContaining("get-serial-port-output node-2") }),
      expect.objectContaining({ source: "ssh", message: "no host keys known for this node; refusing to connect without verifying it", hint: expect.stringContaining("--trust-host-key-on-first-use") }),
    ]);
    expect(run.computeCalls).toEqual(["collectLoadBalancer", "fetchHostKeys", "fetchConsoleHostKeys"]);
    expect(byId(outcome, "C3").verdict).toBe("cannot-tell");
    expect(outcome.exitCode).toBe(2);
    expect(run.reports.markdown).toContain("enable-guest-attributes=TRUE");
    expectNoSecrets(run);
  });

  test("a node without guest attributes but with its first boot on the serial console is verified from there; the report says which source", async () => {
    const world = worldOnLab(t, hostKeys);
    world.compute.instances[1].metadata = { items: [] }; // node-2 publishes no guest attributes
    // node-2's serial console as cloud-init prints it, for the key its sshd really has.
    world.compute.serialPorts = { "node-2": { contents: firstBootConsole([hostKeys["node-2"]]) } };
    const run = await verify(world, REQUESTS);
    const { outcome } = run;
    expect(outcome.results.filter((r) => r.verdict !== "pass").map((r) => `${r.id} ${r.verdict}`)).toEqual([]);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.model.nodes.map((n) => [n.name, n.hostKeySource, n.hostKeyVerified])).toEqual([
      ["node-1", "guest-attributes", true],
      ["node-2", "serial-console", true],
      ["node-3", "guest-attributes", true],
    ]);
    expect(outcome.model.nodes[1]?.hostKeyFingerprint).toBe(`ssh-ed25519 ${fingerprint(keyBlob(hostKeys["node-2"]))}`);
    // Only node-2's console was read; the guest attributes' silence stays on record.
    expect(run.computeRequests.filter((r) => r.path.endsWith("/serialPort")).map((r) => r.path.split("/")[8])).toEqual(["node-2"]);
    expect(outcome.model.problems.map((p) => `${p.subject}: ${p.message}`)).toEqual([expect.stringContaining("node-2: host keys of node-2")]);
    expect(run.hops).toContain("node host keys:ok 3/3 nodes (2 guest attributes, 1 serial console)");
    expect(JSON.parse(run.reports.json).model.nodes[1]).toMatchObject({ name: "node-2", hostKeySource: "serial-console" });
    expectNoSecrets(run);
  });
}, ["sshd", "ssh-keygen"]);
