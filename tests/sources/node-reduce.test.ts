// A node's dump cut down to one Service's rules traces that Service exactly as the whole dump does
// (endpoints, shares, the rules walked with the node's own line numbers), keeps the helper and
// filter chains, and keeps nothing of the other Services.
import { readdirSync } from "node:fs";
import { tracedDump } from "../../verifier/checks/trace-cache";
import { traceDump } from "../../verifier/iptables/trace";
import type { NatDump } from "../../verifier/model";
import { filterTable } from "../../verifier/sources/node-outputs";
import { commentService, reduceDump, type ServiceFocus } from "../../verifier/sources/node-reduce";
import { FIXTURES, readFixture } from "../iptables/helpers";

const dumps = readdirSync(FIXTURES).filter((f) => f.endsWith(".iptables-save.txt") || f.endsWith(".iptables-save-c-nat.txt"));

/** Every Service a whole dump traces, as a focus. */
function focuses(text: string): { focus: ServiceFocus; service: string }[] {
  const seen = new Map<string, { focus: ServiceFocus; service: string }>();
  for (const s of traceDump(text).services) {
    if (!s.service) continue;
    const [nsName] = s.service.split(":") as [string];
    const [namespace, name] = nsName.split("/") as [string, string];
    const entry = seen.get(nsName) ?? { focus: { namespace, name, clusterIPs: [], nodePorts: [] }, service: nsName };
    if (s.clusterIP && !entry.focus.clusterIPs.includes(s.clusterIP)) entry.focus.clusterIPs.push(s.clusterIP);
    if (s.nodePort !== null) entry.focus.nodePorts.push(s.nodePort);
    seen.set(nsName, entry);
  }
  return [...seen.values()];
}

describe.each(dumps)("%s cut down to each Service", (file) => {
  const text = readFixture(file);
  const whole: NatDump = { command: "iptables-save", backend: "legacy", text };
  const all = focuses(text);

  test("the fixture has a Service", () => {
    expect(all.length).toBeGreaterThan(0);
  });

  test.each(all.map((f) => [f.service, f]))("%s traces as in the whole dump, lines as the node printed them", (_name, { focus, service }) => {
    const cut = reduceDump(whole, focus);
    expect(cut.reduction).toEqual({ service, totalLines: expect.any(Number), keptLines: cut.text.split("\n").length });
    if (all.length > 1) expect(cut.text.length).toBeLessThan(text.length);
    const mine = (t: ReturnType<typeof traceDump>) => t.services.filter((s) => s.service?.startsWith(`${service}:`) || s.service === service);
    // as the checks trace a node's dump (a declared PREROUTING without kube-proxy's jump is a fact)
    const full = mine(tracedDump(text));
    const reduced = mine(tracedDump(cut.text, undefined, cut.lineNumbers));
    expect(reduced).toEqual(full);
    // and as a paste is traced (kube-proxy's own restore input leaves the hooks out): the same answer
    expect(mine(traceDump(cut.text, { evidence: false }))).toEqual(mine(traceDump(text, { evidence: false })));
    // every kept line is the node's own line, verbatim
    const original = text.split("\n");
    cut.text.split("\n").forEach((line, i) => expect(original[(cut.lineNumbers![i] as number) - 1]).toBe(line));
    // nothing of another Service stays
    const others = cut.text.split("\n").map(commentService).filter((s) => s !== undefined && s !== service);
    expect(others).toEqual([]);
    // kube-proxy's helper chains stay (the masquerade path the claims quote)
    for (const helper of ["KUBE-MARK-MASQ", "KUBE-POSTROUTING"]) if (text.includes(`:${helper} `)) expect(cut.text).toContain(`:${helper} `);
    if (/-A KUBE-SERVICES .*-j KUBE-NODEPORTS/.test(text)) expect(cut.text).toMatch(/-A KUBE-SERVICES .*-j KUBE-NODEPORTS/);
  });
});

test("the filter table of a cut-down dump quotes the same lines as the whole one, and only the Service's verdicts", () => {
  const filter = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":KUBE-FORWARD - [0:0]",
    ":KUBE-SERVICES - [0:0]",
    ":KUBE-EXTERNAL-SERVICES - [0:0]",
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    "-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT",
    '-A KUBE-SERVICES -d 10.96.0.99/32 -p tcp -m comment --comment "other/gone:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    '-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/hello:http has no local endpoints" -m tcp --dport 30080 -j DROP',
    "COMMIT",
    "",
  ].join("\n");
  const text = readFixture("writer-article.iptables-save.txt") + filter;
  const whole: NatDump = { command: "iptables-save", backend: "legacy", text };
  const hello = focuses(text).find((f) => f.service === "default/hello")!;
  const cut = filterTable(reduceDump(whole, hello.focus));
  const full = filterTable(whole).text.split("\n");
  expect(cut.text).toContain(":FORWARD DROP");
  expect(cut.text).toContain("default/hello:http has no local endpoints");
  expect(cut.text).not.toContain("other/gone");
  // the section ends with a newline: its last (empty) piece is no line
  cut.text.split("\n").slice(0, -1).forEach((line, i) => expect(full[(cut.lineNumbers![i] as number) - 1]).toBe(line));
});

test("a Service with no rules on the node keeps only the chains every node has", () => {
  const text = readFixture("kube-proxy-iptables-overall.iptables-save.txt");
  const cut = reduceDump({ command: "iptables-save", backend: "legacy", text }, { namespace: "nowhere", name: "none", clusterIPs: ["10.255.255.1"], nodePorts: [31999] });
  expect(cut.text).not.toMatch(/KUBE-(SVC|SEP|EXT|SVL|FW|XLB)-/);
  expect(traceDump(cut.text).services).toEqual([]);
});

test("kube-proxy's own nft table is kept whole", () => {
  const text = readFixture("kube-proxy-nftables-overall.nft-table.nft");
  const dump: NatDump = { command: "nft list table ip kube-proxy", backend: "nft-native", text };
  expect(reduceDump(dump, { namespace: "ns1", name: "svc1", clusterIPs: [], nodePorts: [] })).toBe(dump);
});

test("comments name the Service they are about", () => {
  expect(commentService('-A KUBE-SERVICES -d 10.0.0.1/32 -m comment --comment "ns1/svc1:p80 cluster IP" -j KUBE-SVC-X')).toBe("ns1/svc1");
  expect(commentService('-A KUBE-EXT-X -m comment --comment "masquerade traffic for ns2/svc2:p80 external destinations" -j KUBE-MARK-MASQ')).toBe("ns2/svc2");
  expect(commentService("-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp --dport 3001 -j KUBE-EXT-Y")).toBe("ns3/svc3");
  expect(commentService('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')).toBeUndefined();
  expect(commentService("-A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE")).toBeUndefined();
});
