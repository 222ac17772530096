import { probability, validateNatRulesSpec, writeNatRules } from "../../verifier/iptables/kube-proxy-rules";
import { traceDump } from "../../verifier/iptables/trace";
import { articleSpec, nodeIPsSpec } from "../fixtures/writer-specs";
import { expectTraceMatches, expectedFromSpec } from "./helpers";

const rulesOf = (text: string, chain: string) => text.split("\n").filter((l) => l.startsWith(`-A ${chain} `));

describe("writeNatRules", () => {
  const text = writeNatRules(articleSpec);

  test("is one nat table for iptables-restore", () => {
    const lines = text.trim().split("\n");
    expect(lines[0]).toBe("*nat");
    expect(lines[lines.length - 1]).toBe("COMMIT");
    // every chain a rule is appended to or jumps to is declared
    const declared = new Set(lines.filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0]));
    for (const l of lines.filter((x) => x.startsWith("-A "))) {
      expect(declared.has(l.split(" ")[1])).toBe(true);
      const jump = / -j (KUBE-\S+)/.exec(l)?.[1];
      if (jump) expect(declared.has(jump)).toBe(true);
    }
  });

  test("hooks PREROUTING/OUTPUT to KUBE-SERVICES and POSTROUTING to KUBE-POSTROUTING", () => {
    expect(rulesOf(text, "PREROUTING")).toEqual([`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`]);
    expect(rulesOf(text, "OUTPUT")).toEqual([`-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`]);
    expect(rulesOf(text, "POSTROUTING")[0]).toMatch(/-j KUBE-POSTROUTING$/);
    expect(rulesOf(text, "KUBE-MARK-MASQ")).toEqual(["-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"]);
    expect(rulesOf(text, "KUBE-POSTROUTING")).toEqual([
      "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
      "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
      `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    ]);
  });

  test("KUBE-SERVICES: cluster IP jumps, NodePorts last", () => {
    const svc = rulesOf(text, "KUBE-SERVICES");
    expect(svc[0]).toBe(`-A KUBE-SERVICES -m comment --comment "default/hello cluster IP" -m tcp -p tcp -d 10.96.12.34 --dport 80 -j KUBE-SVC-STDNOFAI3EEZDIVA`);
    expect(svc[svc.length - 1]).toBe(
      `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
    );
  });

  test("NodePort -> KUBE-EXT (masquerade, then KUBE-SVC); the SVC chain splits 1/n, 1/(n-1), ..., rest", () => {
    expect(rulesOf(text, "KUBE-NODEPORTS")[0]).toBe(`-A KUBE-NODEPORTS -m comment --comment default/hello -m tcp -p tcp --dport 30080 -j KUBE-EXT-STDNOFAI3EEZDIVA`);
    expect(rulesOf(text, "KUBE-EXT-STDNOFAI3EEZDIVA")).toEqual([
      `-A KUBE-EXT-STDNOFAI3EEZDIVA -m comment --comment "masquerade traffic for default/hello external destinations" -j KUBE-MARK-MASQ`,
      "-A KUBE-EXT-STDNOFAI3EEZDIVA -j KUBE-SVC-STDNOFAI3EEZDIVA",
    ]);
    const three = text.split("\n").filter((l) => l.startsWith("-A KUBE-SVC-") && l.includes("default/three:http"));
    expect(three[0]).toContain("! -s 10.244.0.0/14 -j KUBE-MARK-MASQ");
    expect(three[1]).toContain("--probability 0.3333333333 ");
    expect(three[2]).toContain("--probability 0.5000000000 ");
    expect(three[3]).not.toContain("statistic");
    expect(probability(7)).toBe("0.1428571429");
  });

  test("SEP chains masquerade hairpin traffic and DNAT", () => {
    expect(rulesOf(text, "KUBE-SEP-Y2P56AGJH432KIPI")).toEqual([
      "-A KUBE-SEP-Y2P56AGJH432KIPI -m comment --comment default/hello -s 10.244.1.3 -j KUBE-MARK-MASQ",
      "-A KUBE-SEP-Y2P56AGJH432KIPI -m comment --comment default/hello -m tcp -p tcp -j DNAT --to-destination 10.244.1.3:8080",
    ]);
  });

  test("externalTrafficPolicy Local: EXT short-circuits pods and node, then KUBE-SVL with local endpoints only", () => {
    const ext = rulesOf(text, "KUBE-EXT-BHWGTU6ZYYJSVLPV");
    expect(ext.map((l) => / -j (\S+)$/.exec(l)?.[1])).toEqual(["KUBE-SVC-BHWGTU6ZYYJSVLPV", "KUBE-MARK-MASQ", "KUBE-SVC-BHWGTU6ZYYJSVLPV", "KUBE-SVL-BHWGTU6ZYYJSVLPV"]);
    expect(rulesOf(text, "KUBE-SVL-BHWGTU6ZYYJSVLPV")).toHaveLength(1);
    // no local endpoint: no SVL chain and no fall-through jump, so outside traffic is not forwarded
    const without = rulesOf(text, "KUBE-EXT-PLPMLAGR3B4UJUU3");
    expect(without).toHaveLength(3);
    expect(text).not.toContain(":KUBE-SVL-PLPMLAGR3B4UJUU3");
  });

  test("nodeIPs give -d jumps to KUBE-NODEPORTS instead of addrtype", () => {
    const t = writeNatRules(nodeIPsSpec);
    const last = rulesOf(t, "KUBE-SERVICES").slice(-2);
    expect(last[0]).toMatch(/ -d 192\.168\.0\.2 -j KUBE-NODEPORTS$/);
    expect(last[1]).toMatch(/ -d 203\.0\.113\.7 -j KUBE-NODEPORTS$/);
    expect(t).not.toContain("--dst-type LOCAL");
  });

  test("above 1000 endpoints, per-endpoint comments are dropped like kube-proxy's large cluster mode", () => {
    const endpoints = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 80 }));
    const t = writeNatRules({ services: [{ namespace: "a", name: "b", protocol: "tcp", clusterIP: "10.96.0.1", port: 80, endpoints }] });
    expect(t).not.toContain("-> 10.1.0.1:80");
    expect(t).toContain("--comment \"a/b cluster IP\"");
    expect(t).toContain("-A KUBE-SEP-");
  });

  test("an invalid spec is refused with every problem listed", () => {
    const bad = {
      clusterCIDR: "10.0.0.0",
      services: [
        { namespace: "a", name: "b", protocol: "icmp" as "tcp", clusterIP: "10.96.0.300", port: 0, endpoints: [{ ip: "x", port: 70000 }] },
      ],
    };
    const problems = validateNatRulesSpec(bad);
    expect(problems).toHaveLength(6);
    expect(() => writeNatRules(bad)).toThrow(/clusterCIDR[\s\S]*protocol "icmp"[\s\S]*clusterIP "10.96.0.300"[\s\S]*port 0[\s\S]*endpoints\[0\]\.ip "x"[\s\S]*endpoints\[0\]\.port 70000/);
  });

  test("the tracer reads the writer's output back to the spec", () => {
    const result = traceDump(text);
    expect(result.format).toBe("iptables-save");
    expect(result.warnings).toEqual([]);
    expectTraceMatches(result, expectedFromSpec(articleSpec));
    expectTraceMatches(traceDump(writeNatRules(nodeIPsSpec)), expectedFromSpec(nodeIPsSpec));
  });
});
