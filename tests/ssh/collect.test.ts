// The SSH source against real sshd instances in network namespaces whose nat tables hold
// kube-proxy rules. Needs root; skips loudly otherwise.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execInNamespace, spawnInNamespace, tryExecInNamespace } from "../../lab/netns";
import { generateClientKeyPair, waitForListener } from "../../lab/sshd";
import type { NodeModel, NatDump, Problem } from "../../verifier/model";
import { writeNatRules } from "../../verifier/iptables/kube-proxy-rules";
import { collectNodes, fingerprint, gcloudSshArgv, hostKeyAliasOf, knownHostsScriptText, knownHostsText, parseHostKey, readNatCounters } from "../../verifier/sources/ssh";
import type { NodeTarget, Progress, SshOptions } from "../../verifier/sources/types";
import { describeWithNamespaces } from "../support/namespaces";
import { NodeLab, sshTestCommands, type TestNode } from "./node-lab";


// A /16 of its own (the lab defaults to 10.213.0.0/16), overridable if it collides here.
const RANGE = process.env.GIPS_TEST_RANGE ?? "10.214.0.0/16";
const CLUSTER_IP = "10.214.128.10";
const NODE_PORT = 30080;
const PODS = [
  { ip: "10.214.64.3", port: 8080, nodeName: "node-a" },
  { ip: "10.214.66.4", port: 8080, nodeName: "node-c" },
];

const natRules = (nodeIp?: string) =>
  writeNatRules({
    services: [
      { namespace: "default", name: "hello", protocol: "tcp", clusterIP: CLUSTER_IP, port: 80, nodePort: NODE_PORT, endpoints: PODS },
    ],
    clusterCIDR: "10.214.64.0/18",
    nodeIPs: nodeIp ? [nodeIp] : undefined,
  });

jest.setTimeout(60_000);

describeWithNamespaces("collectNodes over SSH to namespaced nodes", () => {
  const lab = new NodeLab("gips-collect-", RANGE);
  const client = generateClientKeyPair("collect-test");
  const other = generateClientKeyPair("someone-else");
  let nodeA: TestNode;
  let nodeB: TestNode;
  let down: TestNode;
  const hops: string[] = [];
  const progress: Progress = { hop: (name, state) => hops.push(`${name}:${state}`) };
  const opts: SshOptions = { user: "root", privateKey: client.privateKey, transport: "lab", timeoutMs: 8000 };
  const target = (n: TestNode, hostKeys?: string[]): NodeTarget => ({
    name: n.name,
    address: n.nodeIp,
    internalIp: n.nodeIp,
    hostKeys: hostKeys ?? (n.sshd ? [n.sshd.hostPublicKey] : []),
  });

  beforeAll(async () => {
    await lab.destroy(); // leftovers of an earlier, killed run
    nodeA = await lab.add({ name: "node-a", sshd: true, natRules: natRules() }, client.publicKey);
    nodeB = await lab.add({ name: "node-b", sshd: true, natRules: natRules(), legacy: true }, client.publicKey);
    down = await lab.add({ name: "node-down", sshd: false }, client.publicKey);
  });
  afterAll(async () => {
    await lab.destroy();
  });

  let result: { nodes: NodeModel[]; problems: Problem[] };
  let elapsedMs = 0;
  const byName = (name: string) => result.nodes.find((n) => n.name === name) as NodeModel;

  beforeAll(async () => {
    const t0 = Date.now();
    // node-down's host key is a real key: it is refused for having no sshd, not for lacking keys.
    // node-a also probes, in the same round: a port where nothing listens, and sshd (not HTTP).
    const probing: NodeTarget = {
      ...target(nodeA),
      probes: [
        { target: "node-port", address: nodeA.nodeIp, port: 9, path: "/" },
        { target: "pod", address: nodeA.nodeIp, port: 22, path: "/healthz", pod: "sshd-as-pod" },
      ],
    };
    result = await collectNodes([probing, target(nodeB), target(down, [nodeA.sshd!.hostPublicKey])], opts, progress);
    elapsedMs = Date.now() - t0;
  });

  test("reads the nat table from the backend holding the KUBE-* chains", () => {
    const a = byName("node-a");
    expect(a.reachable).toBe(true);
    expect(a.hostKeyVerified).toBe(true);
    expect(a.transport).toBe("lab");
    expect(a.sshAddress).toBe(nodeA.nodeIp);
    // This host's default iptables is the nft variant.
    expect(a.nat?.command).toBe("iptables-save");
    expect(a.nat?.backend).toBe("nft");
    expect(a.nat?.text).toMatch(/^:KUBE-NODEPORTS - \[0:0\]$/m);
    expect(a.nat?.text).toMatch(new RegExp(`-A KUBE-NODEPORTS .*--dport ${NODE_PORT} -j KUBE-EXT-`));
    expect(a.nat?.text).toContain(`-d ${CLUSTER_IP}/32`);
    for (const pod of PODS) expect(a.nat?.text).toContain(`--to-destination ${pod.ip}:${pod.port}`);

    // node-b's rules live in the legacy tables only: the default (nft) dump is empty of KUBE-*.
    const b = byName("node-b");
    expect(b.reachable).toBe(true);
    expect(b.nat?.backend).toBe("legacy");
    expect(b.nat?.command).toBe("iptables-legacy-save");
    expect(b.nat?.text).toContain("KUBE-SERVICES");
  });

  test("forwarding and probes come in the same round: ip_forward, the filter table, probe outcomes", () => {
    const a = byName("node-a");
    expect(typeof a.forwarding?.ipForward).toBe("boolean");
    expect(a.forwarding?.filter?.command).toBe(a.nat?.command);
    expect(a.forwarding?.filter?.backend).toBe(a.nat?.backend);
    // No filter rules were loaded here: the dump has no *filter table, or an empty one.
    expect(a.forwarding?.filter?.text ?? "").not.toMatch(/^-A /m);
    expect(a.probes?.map((p) => p.outcome.kind)).toEqual(["refused", "error"]);
    expect(a.probes?.[0].command).toContain(`http://${nodeA.nodeIp}:9/`);
    expect(a.probes?.[1]).toMatchObject({ target: "pod", pod: "sshd-as-pod", path: "/healthz" });
    // A node read without probes has none (not an empty list that would read as "probed, nothing seen").
    expect(byName("node-b").probes).toBeUndefined();
  });

  test("the node IP is on an interface, the clusterIP on none", () => {
    const a = byName("node-a");
    expect(a.addresses).toContainEqual({ ifname: "eth0", address: nodeA.nodeIp, prefixLength: 30 });
    expect(a.addresses).toContainEqual({ ifname: "lo", address: "127.0.0.1", prefixLength: 8 });
    expect(a.addresses?.map((x) => x.address)).not.toContain(CLUSTER_IP);
  });

  test("sshd's port listens, the nodePort does not", () => {
    const a = byName("node-a");
    expect(a.listeners).toContainEqual({ address: nodeA.nodeIp, port: 22, process: "sshd" });
    expect(a.listeners?.some((l) => l.port === NODE_PORT)).toBe(false);
  });

  test("a node without sshd is unreachable with a Problem, the others still succeed", () => {
    const d = byName("node-down");
    expect(d.reachable).toBe(false);
    expect(d.nat).toBeUndefined();
    const problem = result.problems.find((p) => p.subject === "node-down");
    expect(problem?.source).toBe("ssh");
    expect(problem?.message).toMatch(/ECONNREFUSED/);
    expect(problem?.hint).toMatch(/nothing listens/);
    expect(result.problems.filter((p) => p.subject !== "node-down")).toEqual([]);
    expect(elapsedMs).toBeLessThan(opts.timeoutMs);
    expect(hops).toEqual(expect.arrayContaining(["ssh node-a:ok", "ssh node-b:ok", "ssh node-down:fail"]));
  });

  test("a wrong host key is refused before logging in", async () => {
    const accepted = async () => ((await tryExecInNamespace(nodeA.namespace, ["cat", nodeA.sshd!.logFile])).stdout.match(/Accepted publickey/g) ?? []).length;
    const loginsBefore = await accepted();
    const wrong = await collectNodes([target(nodeA, [other.publicKey.replace(/ \S+$/, "")])], opts, progress);
    const node = wrong.nodes[0] as NodeModel;
    expect(node.reachable).toBe(false);
    expect(node.hostKeyVerified).toBe(false);
    expect(node.nat).toBeUndefined();
    expect(wrong.problems[0]?.message).toMatch(/host key mismatch: .* offered ssh-ed25519 SHA256:\S+, expected one of ssh-ed25519 SHA256:/);
    expect(wrong.problems[0]?.hint).toMatch(/do not override/);
    expect(await accepted()).toBe(loginsBefore);
    expect(loginsBefore).toBeGreaterThan(0);
  });

  test("a node without known host keys is refused before connecting", async () => {
    const none = await collectNodes([target(nodeA, [])], opts, progress);
    expect(none.nodes[0]?.reachable).toBe(false);
    expect(none.nodes[0]?.hostKeyVerified).toBe(false);
    expect(none.problems[0]?.message).toMatch(/no host keys known/);
    expect(none.problems[0]?.hint).toMatch(/guest attributes/);
  });

  test("a key sshd does not know is an authentication Problem", async () => {
    const denied = await collectNodes([target(nodeA)], { ...opts, privateKey: other.privateKey }, progress);
    expect(denied.nodes[0]?.reachable).toBe(false);
    expect(denied.problems[0]?.hint).toMatch(/refused the key for user "root"/);
  });

  test("a node that accepts TCP but never speaks SSH times out on its own", async () => {
    const mute = await lab.add({ name: "node-mute", sshd: false }, client.publicKey);
    // Listens on :22 and never answers: the SSH handshake can only time out.
    const listener = spawnInNamespace(mute.namespace, [
      "python3",
      "-c",
      `import socket, time\ns = socket.socket()\ns.bind(("${mute.nodeIp}", 22))\ns.listen()\ntime.sleep(120)`,
    ]);
    try {
      await waitForListener(mute.namespace, mute.nodeIp, 22, 5000);
      const t0 = Date.now();
      const r = await collectNodes([target(mute, [nodeA.sshd!.hostPublicKey]), target(nodeA)], { ...opts, timeoutMs: 1500 }, progress);
      const elapsed = Date.now() - t0;
      expect(r.nodes.map((n) => [n.name, n.reachable])).toEqual([
        ["node-mute", false],
        ["node-a", true],
      ]);
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]?.message).toMatch(/Timed out/i);
      expect(r.problems[0]?.hint).toMatch(/firewall/);
      expect(elapsed).toBeGreaterThanOrEqual(1400);
      expect(elapsed).toBeLessThan(5000);
    } finally {
      await listener.stop(500);
    }
  });

  test("readNatCounters shows the counters that moved after a connection to the nodePort", async () => {
    const before = await readNatCounters([target(nodeA), target(down, [nodeA.sshd!.hostPublicKey])], opts);
    const dumpBefore = before.get("node-a") as NatDump;
    expect(dumpBefore.command).toBe("iptables-save -c");
    expect(dumpBefore.text).toMatch(/^\[0:0\] -A KUBE-NODEPORTS/m);
    expect((before.get("node-down") as Problem).message).toMatch(/ECONNREFUSED/);

    // A local connection to nodeIP:nodePort runs through OUTPUT -> KUBE-SERVICES -> KUBE-NODEPORTS.
    // The pod IPs have no route inside the namespace, so the SYN goes nowhere outside it.
    await tryExecInNamespace(nodeA.namespace, ["timeout", "1", "bash", "-c", `exec 3<>/dev/tcp/${nodeA.nodeIp}/${NODE_PORT}`]);
    const after = await readNatCounters([target(nodeA)], opts);
    const dumpAfter = after.get("node-a") as NatDump;
    expect(dumpAfter.text).toMatch(new RegExp(`^\\[[1-9]\\d*:\\d+\\] -A KUBE-NODEPORTS .*--dport ${NODE_PORT}`, "m"));
    expect(dumpAfter.text).toMatch(/^\[[1-9]\d*:\d+\] -A KUBE-SEP-\S+ .*-j DNAT --to-destination 10\.214\.6[46]\.\d+:8080/m);
  });

  test("readNatCounters with the collection's choice runs that reader's counting form only", async () => {
    // iptables-legacy-save holds no kube-proxy rules on this node: read alone, it is what comes
    // back (with the problem saying so); without the choice the four readers are chosen among again.
    const chosen = await readNatCounters([target(nodeA)], opts, new Map([["node-a", "iptables-legacy-save"]]));
    const legacy = chosen.get("node-a");
    expect(legacy).toMatchObject({ subject: "node-a", message: "could not read the nat table (iptables-legacy-save -c: printed no table)" });
    const same = await readNatCounters([target(nodeA)], opts, new Map([["node-a", "iptables-save"]]));
    expect((same.get("node-a") as NatDump).command).toBe("iptables-save -c");
    expect((same.get("node-a") as NatDump).text).toMatch(/^\[\d+:\d+\] -A KUBE-NODEPORTS/m);
  });

  test("the ssh options of the IAP transport make OpenSSH check the host key against our keys only", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gips-iapssh-"));
    try {
      const keyFile = join(dir, "id");
      writeFileSync(keyFile, client.privateKey, { mode: 0o600 });
      const sshWith = async (hostKey: string) => {
        const alias = hostKeyAliasOf("node-a");
        const knownHostsFile = join(dir, "known_hosts");
        writeFileSync(knownHostsFile, knownHostsText(alias, [parseHostKey(hostKey)!]));
        const argv = gcloudSshArgv({
          node: "node-a",
          zone: "us-central1-a",
          project: "my-study-123",
          user: "root",
          keyFile,
          knownHostsFile,
          hostKeyAlias: alias,
          remoteCommand: "unused",
          connectTimeoutSeconds: 5,
        });
        // What gcloud hands to ssh after "--", here without the IAP tunnel.
        const sshOptions = argv.slice(argv.indexOf("--") + 1);
        return tryExecInNamespace(nodeA.namespace, ["ssh", ...sshOptions, `root@${nodeA.nodeIp}`, "echo verified-$((6*7))"]);
      };
      const good = await sshWith(nodeA.sshd!.hostPublicKey);
      expect(good.stdout.trim()).toBe("verified-42");
      const bad = await sshWith(other.publicKey);
      expect(bad.code).toBe(255);
      expect(bad.stdout).toBe("");
      expect(bad.stderr).toMatch(/Host key verification failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The serial console's fingerprints (host-keys.ts) and --trust-host-key-on-first-use, against the real sshd.
  const fingerprintOf = (line: string) => fingerprint(Buffer.from(parseHostKey(line)!.blob, "base64"));

  test("a node known only by its serial console's fingerprint is read, and its offered key is named", async () => {
    const fp = fingerprintOf(nodeA.sshd!.hostPublicKey);
    const t = { ...target(nodeA, []), hostKeyFingerprints: [fp], hostKeySource: "serial-console" as const };
    const got = await collectNodes([t], opts, progress);
    expect(got.problems).toEqual([]);
    expect(got.nodes[0]).toMatchObject({ reachable: true, hostKeyVerified: true, hostKeySource: "serial-console" });
    expect(got.nodes[0]?.hostKeyFingerprint).toBe(`${parseHostKey(nodeA.sshd!.hostPublicKey)!.type} ${fp}`);
    expect(got.nodes[0]?.nat?.text).toContain("KUBE-NODEPORTS");
    // Pinned for the rest of the run: the counters' session meets this very key.
    expect(t.hostKeys).toEqual([parseHostKey(nodeA.sshd!.hostPublicKey)!].map((k) => `${k.type} ${k.blob}`));
  });

  test("a fingerprint of another key is refused before logging in, naming both", async () => {
    const wrongFp = fingerprintOf(other.publicKey);
    const got = await collectNodes([{ ...target(nodeA, []), hostKeyFingerprints: [wrongFp] }], opts, progress);
    expect(got.nodes[0]).toMatchObject({ reachable: false, hostKeyVerified: false });
    expect(got.problems[0]?.message).toContain(`offered ssh-ed25519 ${fingerprintOf(nodeA.sshd!.hostPublicKey)}, expected one of ${wrongFp}`);
  });

  test("--trust-host-key-on-first-use: read, but reported as NOT verified with the fingerprint; counters then pin that key", async () => {
    const t = target(nodeA, []);
    const got = await collectNodes([t], { ...opts, trustHostKeyOnFirstUse: true }, progress);
    const fp = `${parseHostKey(nodeA.sshd!.hostPublicKey)!.type} ${fingerprintOf(nodeA.sshd!.hostPublicKey)}`;
    expect(got.nodes[0]).toMatchObject({ reachable: true, hostKeyVerified: false, hostKeySource: "first-use", hostKeyFingerprint: fp });
    expect(got.problems).toHaveLength(1);
    expect(got.problems[0]?.message).toBe(`host key NOT verified: trusted on first use (--trust-host-key-on-first-use): the node offered ${fp}`);
    expect(t.hostKeys).toHaveLength(1);
    const counters = await readNatCounters([t], opts);
    expect((counters.get("node-a") as NatDump).command).toBe("iptables-save -c");
    // The flag never overrides a known key that does not match.
    const mismatch = await collectNodes([target(nodeA, [other.publicKey])], { ...opts, trustHostKeyOnFirstUse: true }, progress);
    expect(mismatch.nodes[0]?.reachable).toBe(false);
    expect(mismatch.problems[0]?.message).toMatch(/host key mismatch/);
  });

  test("IAP with fingerprints only: OpenSSH's KnownHostsCommand lets in the key with that fingerprint and no other", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gips-iapfp-"));
    try {
      const keyFile = join(dir, "id");
      writeFileSync(keyFile, client.privateKey, { mode: 0o600 });
      const sshWith = async (fingerprints: string[], firstUse = false) => {
        const alias = hostKeyAliasOf("node-a");
        const knownHostsFile = join(dir, "known_hosts");
        writeFileSync(knownHostsFile, "");
        const fingerprintFile = join(dir, "fingerprints");
        writeFileSync(fingerprintFile, fingerprints.map((f) => `${f}\n`).join(""));
        const seenFile = join(dir, "offered");
        rmSync(seenFile, { force: true });
        const script = join(dir, "known_hosts_command.sh");
        writeFileSync(script, knownHostsScriptText(alias, fingerprintFile, seenFile, firstUse), { mode: 0o700 });
        const argv = gcloudSshArgv({
          node: "node-a", zone: "us-central1-a", project: "my-study-123", user: "root", keyFile, knownHostsFile,
          hostKeyAlias: alias, knownHostsScript: script, remoteCommand: "unused", connectTimeoutSeconds: 5,
        });
        const sshOptions = argv.slice(argv.indexOf("--") + 1);
        const run = await tryExecInNamespace(nodeA.namespace, ["ssh", ...sshOptions, `root@${nodeA.nodeIp}`, "echo verified-$((6*7))"]);
        const seen = existsSync(seenFile) ? readFileSync(seenFile, "utf8") : "";
        return { ...run, seen };
      };
      const good = await sshWith([fingerprintOf(other.publicKey), fingerprintOf(nodeA.sshd!.hostPublicKey)]);
      expect(good.stdout.trim()).toBe("verified-42");
      expect(good.seen).toContain(parseHostKey(nodeA.sshd!.hostPublicKey)!.blob);
      const bad = await sshWith([fingerprintOf(other.publicKey)]);
      expect(bad.code).toBe(255);
      expect(bad.stdout).toBe("");
      expect(bad.stderr).toMatch(/Host key verification failed/);
      // What the node offered is still recorded, so the refusal can name it.
      expect(bad.seen).toContain(parseHostKey(nodeA.sshd!.hostPublicKey)!.blob);
      const firstUse = await sshWith([], true);
      expect(firstUse.stdout.trim()).toBe("verified-42");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the test nodes really hold what the assertions rely on", async () => {
    // Guards against a vacuous pass: the nat rules are in node-a's kernel, not only in the dump text.
    const { stdout } = await execInNamespace(nodeA.namespace, ["iptables", "-t", "nat", "-S", "KUBE-NODEPORTS"]);
    expect(stdout).toContain(`--dport ${NODE_PORT}`);
  });
}, sshTestCommands);
