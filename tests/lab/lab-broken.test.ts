// Breaking the lab's path by hand (root), with the tools a person uses on a node (iptables, sysctl,
// kill): verify reports, never crashes, and the diagnosis names the same hop / subject / cause as
// the matching `lab break` fault (tests/lab/fault-suite.ts). Then: `lab down` cleans a lab
// whose `lab up` crashed half-way. Own prefixes and address blocks (giplb-/10.215, giplc-/10.216).
import { writeFileSync } from "node:fs";
import { labDown } from "../../lab/down";
import { processesMentioning, rootLinks } from "../../lab/host";
import { createNamespace, createVeth, execInNamespace, killPid, listNamespaces, spawnInNamespace } from "../../lab/netns";
import { labRepair, splitRule } from "../../lab/faults";
import { waitForLb, type LbStatus } from "../../lab/lb-control";
import { ensureStateDir, labPaths, readState, writeState } from "../../lab/state";
import type { Diagnosis } from "../../verifier/model";
import { labTopology, nodeByName } from "../../lab/topology";
import { TEST_HEALTH_CHECK_MS, useLab } from "../support/lab-lifecycle";
import { labVerify } from "../../lab/verify";
import { describeWithNamespaces } from "../support/namespaces";

const labCommands = ["sshd", "ssh-keygen"];

jest.setTimeout(120_000);

describeWithNamespaces("lab broken by hand with ordinary tools, diagnosed as lab break's faults are (giplb-, 10.215.0.0/16)", () => {
  const t = labTopology({ prefix: "giplb-", net: "10.215", healthCheckIntervalMs: TEST_HEALTH_CHECK_MS });
  const pod2 = t.pods.find((p) => p.name === "pod-2")!;
  const node2 = nodeByName(t, "node-2");
  const socket = () => labPaths(t).lbControlSocket;
  /** the LB's health checks see node-2 failing (a break by hand has no `lab break` to wait for it) */
  const node2Fails = (s: LbStatus) => s.backends.some((b) => b.name === "node-2" && (b.state === "UNHEALTHY" || (b.recentChecks ?? []).some((r) => r !== "ok")));
  const fields = (d: Diagnosis[]) => d.map((x) => [x.hop, x.subject, x.cause]);

  useLab(t);

  test("a KUBE-SEP DNAT rule deleted on node-2: C7 fails on node-2 only; node-nat / node-2 / endpoint-rule-missing", async () => {
    const save = (await execInNamespace(node2.namespace, ["iptables-save", "-t", "nat"])).stdout;
    const rule = save.split("\n").find((l) => l.startsWith("-A KUBE-SEP-") && l.includes(`DNAT --to-destination ${pod2.ip}:`));
    expect(rule).toBeDefined();
    await execInNamespace(node2.namespace, ["iptables", "-t", "nat", "-D", ...splitRule(rule!.slice(3))]);
    const sepChain = rule!.split(" ")[1];

    const outcome = await labVerify(t, { requests: 30 });
    const c7 = outcome.results.find((r) => r.id === "C7")!;
    expect(c7.verdict).toBe("fail");
    expect(c7.summary).toContain("node-2");
    expect(c7.summary).not.toMatch(/node-1|node-3/);
    expect(c7.summary).toContain(`${t.pods[0].ip}:${t.service.podPort}`); // what node-2's rules still reach
    expect(outcome.results.find((r) => r.id === "C3")!.verdict).toBe("pass");
    expect(outcome.exitCode).toBe(1);
    expect(fields(outcome.diagnosis)).toEqual([["node-nat", "node-2", "endpoint-rule-missing"]]);
    // The evidence names the rule node-2 lost, as another node has it.
    expect(outcome.diagnosis[0].evidence.some((e) => e.rule?.includes(`DNAT --to-destination ${pod2.ip}:`) && e.node !== "node-2")).toBe(true);
    const after = (await execInNamespace(node2.namespace, ["iptables-save", "-t", "nat"])).stdout;
    expect(after).toContain(`:${sepChain}`);
    expect(after).not.toContain(`DNAT --to-destination ${pod2.ip}:`);
  });

  test("pod-2's process killed: C12 fails, C7 names pod-2; pod / pod-2 / pod-not-ready ties the failed requests to the DNAT counters", async () => {
    const state = readState(t)!;
    await killPid(state.pids["pod-2"]);
    await waitForLb(socket(), (s) => s.backends.some((b) => b.state === "UNHEALTHY" || (b.recentChecks ?? []).some((r) => r !== "ok")), 10_000);

    const outcome = await labVerify(t, { requests: 40 });
    const c12 = outcome.results.find((r) => r.id === "C12")!;
    expect(c12.verdict).toBe("fail");
    expect(c12.summary).toMatch(/HTTP 50[23]/);
    const answers = outcome.model.requests!.results;
    expect(answers.some((r) => r.podName === "pod-2")).toBe(false);
    expect(outcome.model.kubernetes!.pods.find((p) => p.name === "pod-2")!.ready).toBe(false);
    expect(outcome.model.problems.map((p) => p.message)).toContain("pod pod-2's server process is not running");
    expect(outcome.results.find((r) => r.id === "C7")!.summary).toContain(`${pod2.ip}:${t.service.podPort}`);
    expect(fields(outcome.diagnosis)).toEqual([["pod", "pod-2", "pod-not-ready"]]);
    expect(outcome.diagnosis[0].claims).toEqual(expect.arrayContaining(["C7", "C12"]));
  });

  test("node-2's nat table flushed (iptables -t nat -F): node-nat / node-2 / kube-proxy-rules-missing, not Dataplane V2", async () => {
    await execInNamespace(node2.namespace, ["iptables", "-t", "nat", "-F"]);
    await waitForLb(socket(), node2Fails, 10_000);
    const outcome = await labVerify(t, { requests: 20 });
    expect(fields(outcome.diagnosis)).toEqual([["node-nat", "node-2", "kube-proxy-rules-missing"]]);
    expect(outcome.diagnosis[0].claims).toEqual(expect.arrayContaining(["C2", "C3"]));
    expect(JSON.stringify(outcome.results)).not.toMatch(/Dataplane V2/);
  });

  test("node-2's FORWARD policy DROP and FORWARD flushed: node-forwarding / node-2 / forward-policy-drop", async () => {
    await execInNamespace(node2.namespace, ["iptables", "-P", "FORWARD", "DROP"]);
    await execInNamespace(node2.namespace, ["iptables", "-F", "FORWARD"]);
    await waitForLb(socket(), node2Fails, 10_000);
    const outcome = await labVerify(t, { requests: 20 });
    expect(fields(outcome.diagnosis)).toEqual([["node-forwarding", "node-2", "forward-policy-drop"]]);
    // C12 too when the LB still sent requests to node-2 before it turned UNHEALTHY
    expect(outcome.diagnosis[0].claims).toEqual(expect.arrayContaining(["C11"]));
  });

  test("node-2's net.ipv4.ip_forward set to 0: node-forwarding / node-2 / ip-forward-disabled", async () => {
    await execInNamespace(node2.namespace, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
    await waitForLb(socket(), node2Fails, 10_000);
    const outcome = await labVerify(t, { requests: 20 });
    expect(fields(outcome.diagnosis)).toEqual([["node-forwarding", "node-2", "ip-forward-disabled"]]);
    expect(outcome.model.nodes.find((n) => n.name === "node-2")!.forwarding!.ipForward).toBe(false);
  });

  test("after lab repair the lab verifies clean again", async () => {
    await execInNamespace(node2.namespace, ["iptables", "-t", "nat", "-F"]);
    await labRepair(t);
    const outcome = await labVerify(t, { requests: 20 });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.diagnosis).toEqual([]);
  });
}, [...labCommands, "curl"]);

describeWithNamespaces("lab down after a crashed lab up (giplc-, 10.216.0.0/16)", () => {
  const t = labTopology({ prefix: "giplc-", net: "10.216" });
  afterAll(() => labDown(t));

  test("half-built namespaces, a stray root link, a process inside and a torn state are all removed", async () => {
    await labDown(t);
    // What a lab up killed mid-way can leave: an incomplete state file, some namespaces, a veth
    // still in the root namespace, a process started for the lab.
    const paths = ensureStateDir(t);
    writeState(t, { prefix: t.prefix, net: t.net, createdAt: new Date().toISOString(), complete: false, pids: {}, hostKeys: {}, keepAlive: false });
    writeFileSync(`${paths.dir}/state.json.tmp`, "{ torn");
    await createNamespace(`${t.prefix}node-1`);
    await createNamespace(`${t.prefix}lb`);
    await createVeth({ ifname: `${t.prefix}m1` }, { ifname: `${t.prefix}m1n` });
    const sleeper = spawnInNamespace(`${t.prefix}node-1`, ["sleep", "300"], { detached: true });
    expect((await listNamespaces(t.prefix)).length).toBe(2);

    const report = await labDown(t);
    expect(report.leftovers).toEqual([]);
    expect(report.removedNamespaces.sort()).toEqual([`${t.prefix}lb`, `${t.prefix}node-1`]);
    expect(report.removedLinks).toEqual(expect.arrayContaining([`${t.prefix}m1`]));
    expect(await listNamespaces(t.prefix)).toEqual([]);
    expect((await rootLinks()).filter((l) => l.startsWith(t.prefix))).toEqual([]);
    expect(processesMentioning(`${t.stateDir}/`)).toEqual([]);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([sleeper.exited, new Promise((r) => (timer = setTimeout(() => r("still running"), 3000)))]);
    clearTimeout(timer);
    expect(outcome).not.toBe("still running");
  });
}, labCommands);
