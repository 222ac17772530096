// Breaking the lab's path on purpose (root): the verifier must fail the right claim with evidence
// that names what broke. Then: `lab down` cleans a lab whose `lab up` crashed half-way.
// Own prefixes and address blocks (giplb-/10.215, giplc-/10.216), always cleaned.
import { writeFileSync } from "node:fs";
import { labDown } from "../../lab/down";
import { processesMentioning, rootLinks } from "../../lab/host";
import { createNamespace, createVeth, execInNamespace, killPid, listNamespaces, spawnInNamespace } from "../../lab/netns";
import { ensureStateDir, readState, writeState } from "../../lab/state";
import { labTopology, nodeByName } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { labVerify } from "../../lab/verify";
import { describeWithNamespaces } from "../support/namespaces";

const labCommands = ["sshd", "ssh-keygen"];

jest.setTimeout(120_000);

describeWithNamespaces("lab with a broken path (giplb-, 10.215.0.0/16)", () => {
  const t = labTopology({ prefix: "giplb-", net: "10.215" });
  const pod2 = t.pods.find((p) => p.name === "pod-2")!;

  beforeEach(async () => {
    await labDown(t);
    await labUp(t);
  });
  afterAll(async () => {
    const report = await labDown(t);
    expect(report.leftovers).toEqual([]);
  });

  test("a KUBE-SEP DNAT rule deleted on node-2: C7 fails on node-2 only, naming the endpoint its rules lost", async () => {
    const node2 = nodeByName(t, "node-2");
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
    expect(JSON.stringify(c7.evidence)).toContain("node-2");
    // The other claims about the rules still hold on the untouched nodes; C3 (nodePort rule exists) holds everywhere.
    expect(outcome.results.find((r) => r.id === "C3")!.verdict).toBe("pass");
    expect(outcome.exitCode).toBe(1);
    // The broken chain is still there, now without its DNAT: the evidence is the dump itself.
    const after = (await execInNamespace(node2.namespace, ["iptables-save", "-t", "nat"])).stdout;
    expect(after).toContain(`:${sepChain}`);
    expect(after).not.toContain(`DNAT --to-destination ${pod2.ip}:`);
  });

  test("pod-2 stopped: C12 fails with the failed requests, and the rules still sending to pod-2 fail C7", async () => {
    const state = readState(t)!;
    await killPid(state.pids["pod-2"]);

    const outcome = await labVerify(t, { requests: 40 });
    const c12 = outcome.results.find((r) => r.id === "C12")!;
    expect(c12.verdict).toBe("fail");
    expect(c12.summary).toMatch(/HTTP 50[23]/);
    // No answer came from pod-2. (Whether pod-1 answered depends on the LB's health checks, which
    // now fail for every node about half the time: each node DNATs to pod-2 at random.)
    const answers = outcome.model.requests!.results;
    expect(answers.some((r) => r.podName === "pod-2")).toBe(false);
    expect(answers.every((r) => r.podName === "pod-1" || r.status !== 200)).toBe(true);
    // The lab's view of the pod (its kubelet stand-in) says it is not ready, and why.
    expect(outcome.model.kubernetes!.pods.find((p) => p.name === "pod-2")!.ready).toBe(false);
    expect(outcome.model.problems.map((p) => p.message)).toContain("pod pod-2's server process is not running");
    const c7 = outcome.results.find((r) => r.id === "C7")!;
    expect(c7.verdict).toBe("fail");
    expect(c7.summary).toContain(`${pod2.ip}:${t.service.podPort}`);
  });
}, labCommands);

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

/** Splits an iptables-save rule into argv, keeping quoted comments whole. */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}
