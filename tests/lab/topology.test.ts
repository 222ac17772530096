// The lab's plan, without root: names fit Linux's limits, address blocks are private, distinct and
// off the host's network, the nat rules the nodes get name the pods, and the CLI parses its options.
import { parseArgs } from "../../lab/args";
import { collisionsIn } from "../../lab/host";
import { cidrContains, cidrsOverlap } from "../../lab/netns";
import { labCidrs, labNamespaces, labTopology } from "../../lab/topology";
import { interfaceNames, natRulesSpec } from "../../lab/up";
import { writeNatRules } from "../../verifier/iptables/kube-proxy-rules";

describe("lab topology", () => {
  const t = labTopology({ prefix: "gip-lab-", net: "10.213" });

  test("namespaces: client, lb, three nodes, pod-1 on node-1 and pod-2 on node-3", () => {
    expect(labNamespaces(t)).toEqual([
      "gip-lab-client",
      "gip-lab-lb",
      "gip-lab-node-1",
      "gip-lab-node-2",
      "gip-lab-node-3",
      "gip-lab-pod-1",
      "gip-lab-pod-2",
    ]);
    expect(t.pods.map((p) => `${p.name}@${p.nodeName}`)).toEqual(["pod-1@node-1", "pod-2@node-3"]);
  });

  test("every address is unique, private, inside the lab block and off the host's 192.0.2.0/24", () => {
    const addresses = [
      t.client.ip,
      t.lb.publicIp,
      t.lb.vpcIp,
      t.management.gatewayIp,
      t.service.clusterIP,
      ...t.nodes.flatMap((n) => [n.internalIp, n.externalIp, n.podGateway]),
      ...t.pods.map((p) => p.ip),
    ];
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const a of addresses) {
      expect(cidrContains("10.213.0.0/16", a)).toBe(true);
      expect(cidrContains("192.0.2.0/24", a)).toBe(false);
    }
    const cidrs = labCidrs(t);
    for (const [i, a] of cidrs.entries()) for (const b of cidrs.slice(i + 1)) expect(cidrsOverlap(a, b)).toBe(false);
    // Each pod sits in its node's pod range, and the clusterIP in the service range (on no interface).
    for (const p of t.pods) expect(cidrContains(t.nodes.find((n) => n.name === p.nodeName)!.podCidr, p.ip)).toBe(true);
    expect(cidrContains(t.serviceCidr, t.service.clusterIP)).toBe(true);
  });

  test("root-namespace and in-namespace interface names carry the prefix and fit 15 characters", () => {
    const longest = labTopology({ prefix: "abcdefghi-", net: "10.9" });
    const names = interfaceNames(longest);
    const all = [
      names.clientPublic,
      names.lbPublic,
      names.lbBridge,
      longest.management.bridge,
      ...[1, 2, 3].flatMap((k) => [names.nodeVpc(k), names.lbPort(k), names.nodeManagement(k), names.rootManagementPort(k), names.nodePodSide(k), names.pod(k)]),
    ];
    for (const n of all) {
      expect(n.startsWith("abcdefghi-")).toBe(true);
      expect(n.length).toBeLessThanOrEqual(15);
    }
    expect(new Set(all).size).toBe(all.length);
  });

  test("a test lab with its own prefix and block shares nothing with the default lab", () => {
    const other = labTopology({ prefix: "giplt-", net: "10.214" });
    expect(labNamespaces(other).some((ns) => labNamespaces(t).includes(ns))).toBe(false);
    for (const a of labCidrs(other)) for (const b of labCidrs(t)) expect(cidrsOverlap(a, b)).toBe(false);
    expect(other.stateDir).not.toBe(t.stateDir);
    expect(`${t.stateDir}/`.startsWith(`${other.stateDir}/`) || `${other.stateDir}/`.startsWith(`${t.stateDir}/`)).toBe(false);
  });

  test("the health-check interval: 1 s by default, an option or LAB_HEALTH_CHECK_MS for faster labs, refused outside 100..60000 ms", () => {
    const saved = process.env.LAB_HEALTH_CHECK_MS;
    try {
      delete process.env.LAB_HEALTH_CHECK_MS;
      expect(t.lb.healthCheckIntervalMs).toBe(1000);
      expect(labTopology({ healthCheckIntervalMs: 200 }).lb.healthCheckIntervalMs).toBe(200);
      process.env.LAB_HEALTH_CHECK_MS = "250";
      expect(labTopology().lb.healthCheckIntervalMs).toBe(250);
      expect(labTopology({ healthCheckIntervalMs: 300 }).lb.healthCheckIntervalMs).toBe(300);
      process.env.LAB_HEALTH_CHECK_MS = "fast";
      expect(() => labTopology()).toThrow(/interval NaN ms is not usable: give a whole number of milliseconds, 100\.\.60000 \(LAB_HEALTH_CHECK_MS\)/);
      expect(() => labTopology({ healthCheckIntervalMs: 50, net: "192.168" })).toThrow(/10\.x\.0\.0\/16[\s\S]*interval 50 ms/);
    } finally {
      if (saved === undefined) delete process.env.LAB_HEALTH_CHECK_MS;
      else process.env.LAB_HEALTH_CHECK_MS = saved;
    }
  });

  test("bad prefix or block is refused with the rule", () => {
    expect(() => labTopology({ prefix: "Gip lab" })).toThrow(/2\.\.10 characters of a-z/);
    expect(() => labTopology({ prefix: "much-too-long-" })).toThrow(/Linux allows 15/);
    expect(() => labTopology({ net: "192.168" })).toThrow(/10\.x\.0\.0\/16/);
    expect(() => labTopology({ net: "10.300" })).toThrow(/10\.x\.0\.0\/16/);
    // both bad: both named
    expect(() => labTopology({ prefix: "Gip lab", net: "192.168" })).toThrow(/2\.\.10 characters of a-z[\s\S]*10\.x\.0\.0\/16/);
  });

  test("each node's nat rules send the nodePort to both pods, wherever they run", () => {
    for (const node of t.nodes) {
      const rules = writeNatRules(natRulesSpec(t, node.name));
      expect(rules).toMatch(/-A KUBE-NODEPORTS .*--dport 30080 -j KUBE-EXT-/);
      expect(rules).toContain(`-d ${t.service.clusterIP}`);
      for (const p of t.pods) expect(rules).toContain(`DNAT --to-destination ${p.ip}:8080`);
      expect(rules).toContain("MASQUERADE");
    }
  });
});

describe("lab CLI arguments", () => {
  test("verify options", () => {
    const a = parseArgs(["verify", "--json", "--markdown", "r.md", "--requests", "20", "--keep-alive", "--no-color"]);
    expect(a).toMatchObject({ command: "verify", json: true, markdown: "r.md", requests: 20, keepAlive: true, noColor: true, errors: [] });
    expect(parseArgs(["up"])).toMatchObject({ command: "up", requests: 100, keepAlive: false, noColor: false, errors: [] });
  });

  test("every mistake is reported at once", () => {
    const a = parseArgs(["verify", "--requests", "zero", "--markdown", "--frobnicate"]);
    expect(a.errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/--requests \S+: must be a whole number/), expect.stringMatching(/unknown option --frobnicate/)]),
    );
    expect(parseArgs([]).errors).toEqual(["give a command: up, verify, status, break, repair or down"]);
    expect(parseArgs(["sideways"]).errors).toEqual(['unknown command "sideways"']);
  });
});

describe("lab addresses against the host's", () => {
  const t = labTopology({ prefix: "gip-lab-", net: "10.213" });
  const addr = [
    "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
    "4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever",
    "9: gip-lab-br    inet 10.213.250.1/24 scope global gip-lab-br\\       valid_lft forever preferred_lft forever",
  ].join("\n");
  const routes = [
    "default via 192.0.2.1 dev eth0",
    "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2",
    "10.213.250.0/24 dev gip-lab-br proto kernel scope link src 10.213.250.1",
    "local 10.213.250.1 dev gip-lab-br table local proto kernel scope host src 10.213.250.1",
  ].join("\n");

  test("this host's eth0 and default route, and the lab's own bridge, are no collision", () => {
    expect(collisionsIn(addr, routes, labCidrs(t), [t.management.bridge])).toEqual([]);
  });

  test("a host address or route inside the lab's block is named, with the lab range it hits", () => {
    const docker = `${addr}\n5: docker0    inet 10.213.66.1/24 scope global docker0`;
    const vpn = `${routes}\n10.213.128.0/17 via 192.0.2.9 dev eth0`;
    expect(collisionsIn(docker, vpn, labCidrs(t), [t.management.bridge])).toEqual([
      "10.213.64.0/18 overlaps the host address 10.213.66.1/24",
      "10.213.128.0/20 overlaps the host route \"10.213.128.0/17 via 192.0.2.9 dev eth0\"",
      "10.213.200.0/24 overlaps the host route \"10.213.128.0/17 via 192.0.2.9 dev eth0\"",
      "10.213.250.0/24 overlaps the host route \"10.213.128.0/17 via 192.0.2.9 dev eth0\"",
    ]);
    // Without the own-link exception, the lab's own bridge would count (a second lab up must not trip on it).
    expect(collisionsIn(addr, "", labCidrs(t), [])).toEqual(["10.213.250.0/24 overlaps the host address 10.213.250.1/24"]);
  });
});
