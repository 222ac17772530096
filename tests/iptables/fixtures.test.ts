// Every fixture of one ruleset, in every format and backend, must trace to the same services,
// and to what the ruleset means (kube-proxy's own test expectations, or the writer's spec).
import { readdirSync } from "node:fs";
import { toContractJson, traceDump } from "../../verifier/iptables/trace";
import type { TracedEndpoint, TracedService } from "../../verifier/iptables/types";
import { articleSpec, nodeIPsSpec } from "../fixtures/writer-specs";
import { type ExpectedService, expectTraceMatches, expectedFromSpec, readFixture, FIXTURES } from "./helpers";

const fixturesOf = (source: string) =>
  readdirSync(FIXTURES).filter((f) => f.startsWith(`${source}.`) && /\.(txt|nft)$/.test(f) && !f.includes("counters") && !f.includes("iptables-nft-ruleset"));

const ep = (ip: string, port: number, share: number) => ({ ip, port, share });
const sortEp = (l: TracedEndpoint[]) => l.map((e) => ({ ip: e.ip, port: e.port, share: Number(e.share.toFixed(6)) })).sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));

// from TestOverallIPTablesRules / TestOverallNFTablesRules in kube-proxy (see tests/fixtures/README.md)
const kubeProxyOverall: ExpectedService[] = [
  { service: "ns1/svc1:p80", protocol: "tcp", clusterIP: "172.30.0.41", port: 80, nodePort: null, endpoints: [ep("10.180.0.1", 80, 1)], nodePortEndpoints: null },
  // Local policy and no local endpoint: NodePort traffic from outside is not forwarded
  { service: "ns2/svc2:p80", protocol: "tcp", clusterIP: "172.30.0.42", port: 80, nodePort: 3001, endpoints: [ep("10.180.0.2", 80, 1)], nodePortEndpoints: [] },
  { service: "ns3/svc3:p80", protocol: "tcp", clusterIP: "172.30.0.43", port: 80, nodePort: 3003, endpoints: [ep("10.180.0.3", 80, 1)], nodePortEndpoints: [ep("10.180.0.3", 80, 1)] },
  { service: "ns4/svc4:p80", protocol: "tcp", clusterIP: "172.30.0.44", port: 80, nodePort: null, endpoints: [ep("10.180.0.4", 80, 0.5), ep("10.180.0.5", 80, 0.5)], nodePortEndpoints: null },
  // session affinity: the rcheck rule does not catch a new client
  { service: "ns5/svc5:p80", protocol: "tcp", clusterIP: "172.30.0.45", port: 80, nodePort: 3002, endpoints: [ep("10.180.0.3", 80, 1)], nodePortEndpoints: [ep("10.180.0.3", 80, 1)] },
];

const era120: ExpectedService[] = [
  // NodePort: KUBE-MARK-MASQ rule in KUBE-NODEPORTS before the KUBE-SVC jump
  { service: "default/hello", protocol: "tcp", clusterIP: "10.96.12.34", port: 80, nodePort: 30080, endpoints: [ep("10.244.1.3", 8080, 0.5), ep("10.244.3.5", 8080, 0.5)], nodePortEndpoints: [ep("10.244.1.3", 8080, 0.5), ep("10.244.3.5", 8080, 0.5)] },
  // KUBE-XLB with a local endpoint ("Balancing rule 0")
  { service: "default/local-with", protocol: "tcp", clusterIP: "10.96.20.1", port: 80, nodePort: 31001, endpoints: [ep("10.244.2.7", 8080, 0.5), ep("10.244.3.9", 8080, 0.5)], nodePortEndpoints: [ep("10.244.2.7", 8080, 1)] },
  // KUBE-XLB without: KUBE-MARK-DROP
  { service: "default/local-without", protocol: "tcp", clusterIP: "10.96.20.2", port: 80, nodePort: 31002, endpoints: [ep("10.244.3.10", 8080, 1)], nodePortEndpoints: [] },
  { service: "default/sticky", protocol: "tcp", clusterIP: "10.96.30.3", port: 80, nodePort: null, endpoints: [ep("10.244.1.5", 8080, 1 / 3), ep("10.244.2.5", 8080, 1 / 3), ep("10.244.3.5", 8080, 1 / 3)], nodePortEndpoints: null },
  { service: "kube-system/kube-dns:dns", protocol: "udp", clusterIP: "10.96.0.10", port: 53, nodePort: null, endpoints: [ep("10.244.1.2", 53, 1)], nodePortEndpoints: null },
];

const cases: [string, ExpectedService[], number][] = [
  ["writer-article", expectedFromSpec(articleSpec), 8],
  ["writer-nodeips", expectedFromSpec(nodeIPsSpec), 8],
  ["kube-proxy-iptables-overall", kubeProxyOverall, 8],
  ["kube-proxy-1.20-era", era120, 8],
  ["kube-proxy-nftables-overall", kubeProxyOverall, 3],
  ["kube-proxy-nftables-squashed", [
    { service: "ns1/svc1:p80", protocol: "tcp", clusterIP: "172.30.0.41", port: 80, nodePort: null, endpoints: [ep("10.180.0.1", 80, 1)], nodePortEndpoints: null },
    {
      service: "ns3/svc3:p80", protocol: "tcp", clusterIP: "172.30.0.43", port: 80, nodePort: 3003,
      endpoints: [ep("10.0.3.2", 80, 1 / 3), ep("10.0.3.3", 80, 1 / 3), ep("10.0.3.4", 8080, 1 / 3)],
      nodePortEndpoints: [ep("10.0.3.2", 80, 1 / 3), ep("10.0.3.3", 80, 1 / 3), ep("10.0.3.4", 8080, 1 / 3)],
    },
  ], 1],
];

describe.each(cases)("fixtures of %s", (source, expected, count) => {
  const files = fixturesOf(source);
  test(`there are ${count} dumps of it`, () => expect(files).toHaveLength(count));
  test.each(files)("%s traces to the expected services, without warnings", (file) => {
    const result = traceDump(readFixture(file));
    expect(result.warnings).toEqual([]);
    expectTraceMatches(result, expected);
  });
  test("all formats agree exactly", () => {
    const outputs = new Set(files.map((f) => JSON.stringify(toContractJson(traceDump(readFixture(f))).services)));
    expect(outputs.size).toBe(1);
  });
});

describe("the raw sources (kube-proxy's own restore input / nft script)", () => {
  test("kube-proxy's iptables-restore input: unquoted comments, 10-decimal probabilities, nfacct", () => {
    const text = readFixture("sources/kube-proxy-iptables-overall.rules");
    expect(text).toContain("--probability 0.5000000000 ");
    expect(text).toContain("-m nfacct");
    const r = traceDump(text);
    expect(r.warnings).toEqual([]);
    expectTraceMatches(r, kubeProxyOverall);
  });
  test("kube-proxy's nft transaction (`add rule ...` form)", () => {
    const r = traceDump(readFixture("sources/kube-proxy-nftables-overall.nft"));
    expect(r.format).toBe("nft");
    expect(r.warnings).toEqual([]);
    expectTraceMatches(r, kubeProxyOverall);
  });
  test("probabilities printed with 5 decimals (older iptables) give the shares they say", () => {
    const text = readFixture("kube-proxy-1.20-era.iptables-save.txt").replace("0.33333333349", "0.33333").replace(/0\.50000000000/g, "0.50000");
    expect(text).toContain("--probability 0.33333 ");
    const sticky = traceDump(text).services.find((s) => s.service === "default/sticky")!;
    const shares = sticky.endpoints.map((e) => e.share);
    expect(shares[0]).toBeCloseTo(0.33333, 9);
    expect(shares[1]).toBeCloseTo((1 - 0.33333) * 0.5, 9);
    expect(shares[2]).toBeCloseTo((1 - 0.33333) * 0.5, 9);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe("evidence", () => {
  const file = "writer-article.iptables-save-c-nat.txt";
  const text = readFixture(file);
  const lines = text.split("\n");
  const hello = traceDump(text).services.find((s) => s.service === "default/hello")!;

  test("clusterIP path: PREROUTING -> KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP DNAT, with lines and counters", () => {
    const e = hello.endpoints.find((x) => x.ip === "10.244.1.3")!;
    expect(e.chain).toBe("KUBE-SEP-Y2P56AGJH432KIPI");
    const ev = e.evidence!;
    expect(ev.map((r) => r.chain)).toEqual(["PREROUTING", "KUBE-SERVICES", "KUBE-SVC-STDNOFAI3EEZDIVA", "KUBE-SEP-Y2P56AGJH432KIPI"]);
    expect(ev[3].text).toContain("DNAT --to-destination 10.244.1.3:8080");
    for (const r of ev) {
      expect(lines[r.line - 1]).toContain(r.text);
      expect(r.packets).toBe(0);
      expect(r.bytes).toBe(0);
    }
  });

  test("nodePort path goes through KUBE-NODEPORTS and KUBE-EXT", () => {
    const ev = hello.nodePortEndpoints!.find((x) => x.ip === "10.244.3.5")!.evidence!;
    expect(ev.map((r) => r.chain)).toEqual(["PREROUTING", "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXT-STDNOFAI3EEZDIVA", "KUBE-SVC-STDNOFAI3EEZDIVA", "KUBE-SEP-QXPZGYHSQADUI6M3"]);
    expect(hello.chains).toEqual(["KUBE-EXT-STDNOFAI3EEZDIVA", "KUBE-SVC-STDNOFAI3EEZDIVA"]);
  });

  test("-nvL evidence carries the list line and its counters", () => {
    const list = readFixture("writer-article.iptables-nvL.txt");
    const e = traceDump(list).services.find((s) => s.service === "default/hello")!.endpoints[0];
    const last = e.evidence![e.evidence!.length - 1];
    expect(last.text).toMatch(/^0\s+0\s+DNAT\s+6\s+--/);
    expect(list.split("\n")[last.line - 1].trim()).toBe(last.text);
  });

  test("toContractJson keeps exactly the contract's fields", () => {
    const json = toContractJson(traceDump(text));
    expect(Object.keys(json)).toEqual(["format", "services", "warnings"]);
    expect(Object.keys(json.services[0])).toEqual(["service", "protocol", "clusterIP", "port", "nodePort", "endpoints", "unresolved", "nodePortEndpoints", "nodePortUnresolved"]);
    expect(Object.keys(json.services[0].endpoints[0])).toEqual(["ip", "port", "share"]);
  });
});

describe("node addresses and other dumps", () => {
  test("with -d nodeIP jumps, NodePorts answer only on those addresses", () => {
    const text = readFixture("writer-nodeips.iptables-save.txt");
    const other = traceDump(text, { nodeIP: "10.1.2.3" }).services[0];
    expect(other.nodePortEndpoints).toEqual([]);
    const second = traceDump(text, { nodeIP: "203.0.113.7" }).services[0];
    expect(second.nodePortEndpoints).toHaveLength(4);
  });

  // iptables-nft's tables listed by `nft list ruleset` (real iptables-nft + nft, see tests/fixtures/README.md):
  // no comments, so no names; `meta random & 2147483647 < N` probabilities; `fib daddr type local`
  test.each([
    ["writer-article", expectedFromSpec(articleSpec)],
    ["writer-nodeips", expectedFromSpec(nodeIPsSpec)],
    ["kube-proxy-iptables-overall", kubeProxyOverall],
    ["kube-proxy-1.20-era", era120],
  ] as const)("iptables-nft rules of %s seen through `nft list ruleset` trace like iptables-save's", (source, expected) => {
    const r = traceDump(readFixture(`${source}.iptables-nft-ruleset.nft`));
    expect(r.format).toBe("nft");
    // the only guess: which `-m recent` option an `xt match recent` hides
    for (const w of r.warnings) expect(w).toMatch(/^line \d+: "xt match recent" hides its option/);
    const save = traceDump(readFixture(`${source}.iptables-save.txt`));
    const key = (s: { protocol: string; clusterIP: string | null; port: number | null; nodePort: number | null }) => `${s.protocol} ${s.clusterIP}:${s.port} ${s.nodePort}`;
    const strip = (s: TracedService) => ({ key: key(s), endpoints: sortEp(s.endpoints), unresolved: s.unresolved, nodePortEndpoints: s.nodePortEndpoints && sortEp(s.nodePortEndpoints), nodePortUnresolved: s.nodePortUnresolved });
    expect(r.services.map(strip).sort((a, b) => a.key.localeCompare(b.key))).toEqual(save.services.map(strip).sort((a, b) => a.key.localeCompare(b.key)));
    expect(r.services).toHaveLength(expected.length);
  });

  test("unreadable lines become warnings with their line number, the rest is still traced", () => {
    const text = readFixture("writer-article.iptables-save.txt").split("\n");
    const idx = text.findIndex((l) => l.includes("KUBE-SEP-Y2P56AGJH432KIPI -p tcp"));
    text[idx] = text[idx].replace("--to-destination 10.244.1.3:8080", "--to-destination nowhere");
    text.splice(3, 0, "this is not a rule");
    const r = traceDump(text.join("\n"));
    expect(r.warnings).toEqual([
      expect.stringMatching(/^line 4: text outside a "\*table ... COMMIT" block|^line 4: /),
      expect.stringMatching(new RegExp(`^line ${idx + 2}: DNAT destination "nowhere".*the connections it would take are unknown`)),
    ]);
    const hello = r.services.find((s) => s.service === "default/hello")!;
    // the SEP chain's unreadable DNAT: its share is unknown, not handed to the next endpoint
    expect(hello.endpoints.map((e) => e.ip)).toEqual(["10.244.3.5"]);
    expect(hello.endpoints[0].share).toBeCloseTo(0.5, 9);
    expect(hello.unresolved).toEqual([{ chain: "KUBE-SEP-Y2P56AGJH432KIPI", share: 0.5, reason: `line ${idx + 2} could not be read` }]);
  });

  test("other nft tables in a ruleset are skipped, whatever they hold", () => {
    const foreign = `table inet firewalld {\n\tset allowed {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.0-10.0.0.9 weird stuff }\n\t}\n\tchain filter_IN {\n\t\ttype filter hook input priority filter + 10; policy accept;\n\t\tsomething nobody parses\n\t}\n}\n`;
    const r = traceDump(foreign + readFixture("kube-proxy-nftables-overall.nft-table.nft"));
    expect(r.warnings).toEqual([]);
    expectTraceMatches(r, kubeProxyOverall);
  });

  test("empty and foreign text", () => {
    expect(traceDump("").warnings[0]).toMatch(/^line 1: the dump is empty/);
    expect(traceDump("hello world\n").warnings[0]).toMatch(/^line 1: not an iptables-save/);
  });
});
