// `lab up --nodes N`: the topology for 3..50 nodes keeps every name and address unique and inside
// the lab's /16 and its own blocks, the pods stay on node-1 and node-3, and --nodes is refused
// outside 3..50 in the lab CLI's one-line-per-problem style.
import { parseArgs } from "../../lab/args";
import { cidrContains } from "../../lab/netns";
import { labNamespaces, labTopology, MAX_LAB_NODES } from "../../lab/topology";
import { interfaceNames } from "../../lab/up";

describe("lab topology for N nodes", () => {
  test("the default stays the article's three nodes", () => {
    expect(labTopology({ prefix: "gip-lab-", net: "10.213" }).nodes.map((n) => n.name)).toEqual(["node-1", "node-2", "node-3"]);
  });

  test.each([3, 5, 50])("%i nodes: names, addresses and interface names unique, each in its block of the /16", (count) => {
    const t = labTopology({ prefix: "abcdefghi-", net: "10.9", nodes: count });
    expect(t.nodes).toHaveLength(count);
    expect(t.nodes.map((n) => n.name)).toEqual(Array.from({ length: count }, (_, i) => `node-${i + 1}`));
    const namespaces = labNamespaces(t);
    expect(new Set(namespaces).size).toBe(namespaces.length);
    expect(namespaces).toHaveLength(count + 4);

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
    for (const a of addresses) expect(cidrContains("10.9.0.0/16", a)).toBe(true);
    for (const n of t.nodes) {
      expect(cidrContains(t.vpcCidr, n.internalIp)).toBe(true);
      expect(cidrContains(t.management.cidr, n.externalIp)).toBe(true);
      expect(cidrContains(t.clusterCidr, n.podCidr.replace(/\/24$/, "")) && cidrContains(t.clusterCidr, n.podCidr.replace(/\.0\/24$/, ".255"))).toBe(true);
      expect(cidrContains(n.podCidr, n.podGateway)).toBe(true);
      // The host addresses of a /24 are .1 .. .254: no node address is a network or broadcast address.
      for (const a of [n.internalIp, n.externalIp]) expect(Number(a.split(".")[3])).toBeLessThanOrEqual(254);
    }
    expect(new Set(t.nodes.map((n) => n.podCidr)).size).toBe(count);

    // The pods stay two, on node-1 and node-3, whatever the count.
    expect(t.pods.map((p) => `${p.name}@${p.nodeName}`)).toEqual(["pod-1@node-1", "pod-2@node-3"]);

    const names = interfaceNames(t);
    const links = t.nodes.flatMap((_, i) => [names.nodeVpc(i + 1), names.lbPort(i + 1), names.nodeManagement(i + 1), names.rootManagementPort(i + 1)]);
    expect(new Set(links).size).toBe(links.length);
    for (const l of links) expect(l.length).toBeLessThanOrEqual(15);
  });

  test("a count outside 3..50 is refused, with the other problems, not built", () => {
    expect(() => labTopology({ nodes: 2 })).toThrow('--nodes must be a whole number 3..50 (the pods run on node-1 and node-3), got "2"');
    expect(() => labTopology({ nodes: MAX_LAB_NODES + 1 })).toThrow(/got "51"/);
    expect(() => labTopology({ nodes: 2, net: "10.300" })).toThrow(/lab net "10.300" is not usable[^]*\n--nodes must be a whole number/);
    expect(labTopology({ nodes: 4 }).nodes).toHaveLength(4);
  });
});

describe("lab up --nodes", () => {
  test("a whole number 3..50 is taken by up as a count (verify reads --nodes as verify does: which nodes)", () => {
    expect(parseArgs(["up", "--nodes", "50"])).toMatchObject({ nodes: 50, errors: [] });
    expect(parseArgs(["up", "--nodes=3"])).toMatchObject({ nodes: 3, errors: [] });
    expect(parseArgs(["up"]).nodes).toBeUndefined();
    const verify = parseArgs(["verify", "--nodes", "5"]);
    expect(verify).toMatchObject({ selection: { kind: "count", count: 5 }, errors: [] });
    expect(verify.nodes).toBeUndefined();
    expect(parseArgs(["down", "--nodes", "5"]).errors).toEqual(["--nodes is an option of lab up and lab verify, not of lab down"]);
  });

  test("2, 51, x and a missing value are refused, one line each", () => {
    const refused = (value: string) => parseArgs(["up", "--nodes", value]).errors;
    expect(refused("2")).toEqual(['--nodes must be a whole number 3..50 (the pods run on node-1 and node-3), got "2"']);
    expect(refused("51")).toEqual(['--nodes must be a whole number 3..50 (the pods run on node-1 and node-3), got "51"']);
    expect(refused("x")).toEqual(['--nodes must be a whole number 3..50 (the pods run on node-1 and node-3), got "x"']);
    expect(refused("4.5")).toEqual(['--nodes must be a whole number 3..50 (the pods run on node-1 and node-3), got "4.5"']);
    expect(parseArgs(["up", "--nodes"]).errors).toEqual(["--nodes needs a value: a whole number 3..50"]);
    expect(parseArgs(["up", "--nodes", "--keep-alive"])).toMatchObject({ keepAlive: true, errors: ["--nodes needs a value: a whole number 3..50"] });
    for (const e of [...refused("x"), ...parseArgs(["up", "--nodes", "0", "--bogus"]).errors]) expect(e).not.toContain("\n");
  });

  test("the NEG lab is built with 3 nodes: --nodes 5 with --backend neg is refused", () => {
    expect(parseArgs(["up", "--backend", "neg", "--nodes", "5"]).errors).toEqual(["--nodes 5 works with --backend instance-group only: the NEG lab is built with 3 nodes"]);
    expect(parseArgs(["up", "--backend", "neg", "--nodes", "3"]).errors).toEqual([]);
  });
});
