// What people really paste (design.md "Real pastes"), one kind per test, on the inputs in
// tests/fixtures/pastes/: the trace reads what is there, assumes only what kube-proxy always
// writes (with a warning), keeps every gap as an `unresolved` share, and warns about every line it
// skipped, cut or guessed.
import { join } from "node:path";
import { toContractJson, traceDump } from "../../verifier/iptables/trace";
import type { TraceResult, TracedService } from "../../verifier/iptables/types";
import { readFixture } from "./helpers";

const paste = (name: string) => readFixture(join("pastes", name));
const ep = (ip: string, port: number, share: number) => ({ ip, port, share });

/** The contract's view of one service (no evidence), shares rounded to 9 decimals. */
function contract(r: TraceResult, match: (s: TracedService) => boolean) {
  const i = r.services.findIndex(match);
  expect(i).toBeGreaterThanOrEqual(0);
  const s = toContractJson(r).services[i];
  const round = <T extends { share: number }>(l: T[] | null) => l && l.map((x) => ({ ...x, share: Number(x.share.toFixed(9)) }));
  return { ...s, endpoints: round(s.endpoints), unresolved: round(s.unresolved), nodePortEndpoints: round(s.nodePortEndpoints), nodePortUnresolved: round(s.nodePortUnresolved) };
}

/** Every warning names its line and is matched by one of `patterns`; every pattern is used. */
function expectWarnings(r: TraceResult, patterns: RegExp[]): void {
  for (const w of r.warnings) expect(w).toMatch(/^line \d+: /);
  for (const p of patterns) expect(r.warnings.some((w) => p.test(w))).toBe(true);
  for (const w of r.warnings) expect({ w, matched: patterns.some((p) => p.test(w)) }).toEqual({ w, matched: true });
}

describe("helper chains by their meaning, declared or not", () => {
  test("grep'ed paste without KUBE-MARK-MASQ: marks and goes on (assumed, with one warning)", () => {
    const r = traceDump(paste("p01-grep-without-mark-masq.txt"));
    expect(contract(r, (s) => s.clusterIP === "10.60.7.12")).toMatchObject({
      service: "shop/cart:http",
      port: 80,
      endpoints: [ep("10.52.1.14", 3000, 0.333333333), ep("10.52.2.9", 3000, 0.333333333), ep("10.52.3.21", 3000, 0.333333333)],
      unresolved: [],
      nodePortEndpoints: null,
      nodePortUnresolved: null,
    });
    expectWarnings(r, [/^line 1: rules without a "\*nat" line/, /^line 8: chain KUBE-MARK-MASQ is not in the dump; assumed as kube-proxy writes it/]);
    expect(r.warnings.filter((w) => w.includes("KUBE-MARK-MASQ"))).toHaveLength(1);
  });

  test("nft table without chain mark-for-masquerade: the same meaning", () => {
    const table = readFixture("kube-proxy-nftables-overall.nft-table.nft").replace(/\tchain mark-for-masquerade \{[^}]*\}\n\n/, "");
    expect(table).not.toContain("chain mark-for-masquerade");
    const r = traceDump(table);
    const svc4 = contract(r, (s) => s.clusterIP === "172.30.0.44");
    expect(svc4.endpoints).toEqual([ep("10.180.0.4", 80, 0.5), ep("10.180.0.5", 80, 0.5)]);
    expect(svc4.unresolved).toEqual([]);
    expectWarnings(r, [/chain mark-for-masquerade is not in the dump; assumed as kube-proxy writes it/]);
  });

  test("KUBE-MARK-DROP not in the paste still ends the path as dropped: [] with nothing unresolved", () => {
    const r = traceDump(paste("p12-grep-mark-drop.txt"));
    expect(contract(r, (s) => s.nodePort === 30990)).toMatchObject({ nodePortEndpoints: [], nodePortUnresolved: [] });
  });

  test("KUBE-MARK-DROP declared with its MARK rule, and a later nat rule that would DNAT: still dropped", () => {
    const whole = paste("p05-whole-dump-without-final-rule.txt")
      .replace(":KUBE-MARK-MASQ - [0:0]", ":KUBE-MARK-DROP - [0:0]\n:KUBE-MARK-MASQ - [0:0]")
      .replace("-A KUBE-MARK-MASQ", "-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n-A KUBE-MARK-MASQ")
      .replace("-A KUBE-EXT-GHSTK2L7QW4MZ3XA -j KUBE-SVC-GHSTK2L7QW4MZ3XA", "-A KUBE-EXT-GHSTK2L7QW4MZ3XA -j KUBE-MARK-DROP\n-A KUBE-EXT-GHSTK2L7QW4MZ3XA -j KUBE-SVC-GHSTK2L7QW4MZ3XA")
      .replace("-A KUBE-SERVICES -d", "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n-A KUBE-SERVICES -d");
    const r = traceDump(whole);
    expect(r.warnings).toEqual([]);
    expect(contract(r, (s) => s.nodePort === 32080)).toMatchObject({ endpoints: [ep("10.42.0.31", 2368, 1)], nodePortEndpoints: [], nodePortUnresolved: [] });
  });
});

describe("the NodePort entry", () => {
  test("chain by chain (-S, -N lines) without KUBE-SERVICES: kube-proxy's last rule is assumed, with a warning", () => {
    const r = traceDump(paste("p04-chain-by-chain-nodeports.txt"));
    expect(contract(r, (s) => s.nodePort === 32080)).toMatchObject({
      clusterIP: null,
      port: null,
      nodePortEndpoints: [ep("10.42.0.31", 2368, 0.5), ep("10.42.1.8", 2368, 0.5)],
      nodePortUnresolved: [],
    });
    expectWarnings(r, [/^line 2: no rule in the paste leads to KUBE-NODEPORTS; assumed kube-proxy's last KUBE-SERVICES rule: .*--dst-type LOCAL -j KUBE-NODEPORTS$/, /KUBE-MARK-MASQ is not in the dump/]);
  });

  test("a whole dump whose KUBE-SERVICES lacks that rule: not forwarded is a fact, nothing assumed", () => {
    const r = traceDump(paste("p05-whole-dump-without-final-rule.txt"));
    expect(r.warnings).toEqual([]);
    expect(contract(r, (s) => s.nodePort === 32080)).toMatchObject({ endpoints: [ep("10.42.0.31", 2368, 1)], nodePortEndpoints: [], nodePortUnresolved: [] });
  });

  test("the NodePort path enters a chain that is not in the paste: unknown, not dropped", () => {
    const r = traceDump(paste("p06-nodeport-into-missing-svl.txt"));
    expect(contract(r, (s) => s.nodePort === 30443)).toMatchObject({
      nodePortEndpoints: [],
      nodePortUnresolved: [{ chain: "KUBE-SVL-NGNXW5T2KQ7LM4ZA", share: 1, reason: "not in the dump" }],
    });
    expectWarnings(r, [/^line 1: rules without/, /^line 1: no rule in the paste leads to KUBE-NODEPORTS/, /^line 5: jumps to chain KUBE-SVL-NGNXW5T2KQ7LM4ZA, which is not in the dump/]);
  });

  test("a grep'ed chain whose end is not in the paste: what falls off it is unknown", () => {
    // only the masquerade rule of a Cluster-policy KUBE-EXT chain; its `-j KUBE-SVC-...` is not there
    const text = paste("p08-notes.md").replace(/^.*KUBE-EXT-APIQ2W7KZ4XLM3RB -j KUBE-SVC.*$/m, "");
    const r = traceDump(text);
    expect(contract(r, (s) => s.nodePort === 31234)).toMatchObject({
      nodePortEndpoints: [],
      nodePortUnresolved: [{ chain: "KUBE-EXT-APIQ2W7KZ4XLM3RB", share: 1, reason: "the rest of the chain is not in the dump" }],
    });
  });
});

describe("fragments without entry rules", () => {
  test("a KUBE-SVC chain and its KUBE-SEP chains (-S): the clusterIP comes from the masquerade rule", () => {
    const r = traceDump(paste("p07-udp-service-chain-only.txt"));
    expect(contract(r, (s) => s.protocol === "udp")).toMatchObject({
      service: "monitoring/statsd:metrics",
      clusterIP: "10.96.200.5",
      port: 8125,
      endpoints: [ep("10.32.4.2", 8125, 0.25), ep("10.32.5.7", 8125, 0.75)],
      unresolved: [],
    });
    expectWarnings(r, [/^line 2: no rule in the dump leads to KUBE-SVC-MTRC2XQW7ZLK4PNA; its clusterIP 10\.96\.200\.5:8125 is read from its masquerade rule/, /KUBE-MARK-MASQ is not in the dump/]);
  });

  test("an nft table without `chain services`: the service chains are traced from themselves, the port number stays unknown", () => {
    const table = readFixture("kube-proxy-nftables-overall.nft-table.nft").replace(/\tchain services \{[^}]*\}\n\n/, "");
    expect(table).not.toContain("chain services {");
    const r = traceDump(table);
    const svc4 = contract(r, (s) => s.clusterIP === "172.30.0.44");
    expect(svc4).toMatchObject({ service: "ns4/svc4:p80", port: null, endpoints: [ep("10.180.0.4", 80, 0.5), ep("10.180.0.5", 80, 0.5)], unresolved: [] });
    expect(r.warnings.some((w) => /no verdict map in the dump leads to service-LAUZTJTB-ns4\/svc4\/tcp\/p80 \(no `chain services`\)/.test(w))).toBe(true);
  });

  test("a jump to a KUBE-SEP chain that is not in the paste: the address from kube-proxy's comment, marked from: comment", () => {
    const r = traceDump(paste("p13-sep-missing-comment-names-it.txt"));
    expect(contract(r, (s) => s.clusterIP === "10.96.77.77")).toMatchObject({
      endpoints: [ep("10.9.1.1", 8080, 0.5), { ...ep("10.9.2.2", 8080, 0.5), from: "comment" }],
      unresolved: [],
    });
    expectWarnings(r, [/^line 1: rules without/, /^line 3: jumps to chain KUBE-SEP-KC2Q2W7XK4ZML3AB, which is not in the dump; its endpoint 10\.9\.2\.2:8080 is read from the rule's comment only/]);
  });
});

describe("notes artefacts", () => {
  test("Markdown: headings, list items, a fence, a root prompt, indented rules, a remark, '...'", () => {
    const r = traceDump(paste("p08-notes.md"));
    expect(r.format).toBe("iptables-save");
    const both = [ep("10.200.1.5", 8443, 0.5), ep("10.200.2.6", 8443, 0.5)];
    expect(contract(r, (s) => s.nodePort === 31234)).toMatchObject({ clusterIP: "10.100.3.3", port: 443, endpoints: both, unresolved: [], nodePortEndpoints: both, nodePortUnresolved: [] });
    expectWarnings(r, [
      /^line 1: skipped: not part of a dump: # api is slow/,
      /^line 3: skipped: not a rule/,
      /^line 5: skipped: not a rule/,
      /^line 7: skipped: a Markdown fence/,
      /^line 8: skipped: a shell command, not its output \(\[root@pool-a-2 ~\]# iptables-save/,
      /^line 9: rules without/,
      /^line 9: no rule in the paste leads to KUBE-NODEPORTS/,
      /^line 10: chain KUBE-MARK-MASQ is not in the dump/,
      /^line 11: ignored the remark after the rule: <-- this is the jump I mean$/,
      /^line 16: skipped: "\.\.\." stands for left-out lines/,
      /^line 18: skipped: a Markdown fence/,
      /^line 20: skipped: not a rule/,
    ]);
  });

  test("'...' inside an nft chain: the chain may hold more, so what falls off its end is unknown", () => {
    const table = readFixture("kube-proxy-nftables-overall.nft-table.nft").replace(/^(\s*)meta l4proto tcp dnat to 10\.180\.0\.1:80$/m, "$1...");
    expect(table).not.toContain("dnat to 10.180.0.1:80");
    const r = traceDump(table);
    expect(contract(r, (s) => s.clusterIP === "172.30.0.41")).toMatchObject({
      endpoints: [],
      unresolved: [{ chain: "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80", share: 1, reason: "the rest of the chain is not in the dump" }],
    });
    expect(r.warnings.some((w) => /^line \d+: skipped: "\.\.\." stands for left-out lines/.test(w))).toBe(true);
  });

  test("an `iptables -L` listing whose first chain has no Chain line: read as KUBE-SERVICES, with a warning", () => {
    const r = traceDump(paste("p09-list-without-chain-line.txt"));
    expect(r.format).toBe("iptables-list");
    expect(contract(r, (s) => s.clusterIP === "10.110.4.4")).toMatchObject({ endpoints: [ep("10.120.0.9", 8080, 1)], unresolved: [] });
    expectWarnings(r, [/^line 2: rules listed without their "Chain X \(\.\.\.\)" line; read as chain KUBE-SERVICES \(guessed/]);
  });

  test("remarks inside a quoted comment are part of the comment, not removed", () => {
    const r = traceDump('-A KUBE-SERVICES -d 10.96.1.1/32 -p tcp -m comment --comment "a/b <-- c cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABCDEFGHIJKLMNOP\n');
    expect(r.warnings.some((w) => w.includes("ignored the remark"))).toBe(false);
    // the rule kept its jump: the service chain it names is looked for (and is not in this paste)
    expect(r.services[0]).toMatchObject({ clusterIP: "10.96.1.1", unresolved: [{ chain: "KUBE-SVC-ABCDEFGHIJKLMNOP", share: 1, reason: "not in the dump" }] });
  });
});

describe("lines cut at the end", () => {
  test("iptables-save line cut inside a quoted comment: its share is unknown, and the cut is warned about", () => {
    const r = traceDump(paste("p10-cut-quote-at-end.txt"));
    expect(contract(r, (s) => s.clusterIP === "10.96.33.10")).toMatchObject({
      endpoints: [ep("10.1.7.3", 9000, 0.5)],
      unresolved: [{ chain: "KUBE-SEP-LD2Q2W7XK4ZML3AB", share: 0.5, reason: "line 5 is cut" }],
    });
    expectWarnings(r, [/^line 1: rules without/, /^line 5: the line is cut \(unterminated quote\)/]);
  });

  test("a chain name shorter than kube-proxy's hash is a cut, not a chain missing from the dump", () => {
    const text = paste("p10-cut-quote-at-end.txt").split("\n").slice(0, 4).join("\n").replace("-j KUBE-SEP-LD2Q2W7XK4ZML3AB", "-j KUBE-SEP-LD2Q");
    const r = traceDump(text);
    expect(contract(r, (s) => s.clusterIP === "10.96.33.10").unresolved).toEqual([{ chain: "KUBE-SEP-LD2Q", share: 0.5, reason: "line 3 is cut" }]);
    expect(r.warnings.some((w) => /^line 3: the line is cut \(chain name KUBE-SEP-LD2Q is shorter than kube-proxy's\)/.test(w))).toBe(true);
  });

  test("an `iptables -L` listing cut at its last line", () => {
    const r = traceDump(paste("p11-list-cut-at-end.txt"));
    expect(contract(r, (s) => s.clusterIP === "10.96.33.10")).toMatchObject({
      port: 9000,
      endpoints: [{ ip: "10.1.7.3", port: 9000, share: 0.5, from: "comment" }],
      unresolved: [{ chain: "KUBE-SVC-LDGRQ2W7XK4ZML3A", share: 0.5, reason: "line 5 is cut" }],
    });
    expectWarnings(r, [/^line 3: no rule in the dump leads to KUBE-SVC-LDGRQ2W7XK4ZML3A; its clusterIP/, /KUBE-MARK-MASQ is not in the dump/, /KUBE-SEP-LD1Q2W7XK4ZML3AB, which is not in the dump; its endpoint/, /^line 5: the line is cut/]);
  });
});

describe("iptables-nft seen through nft list ruleset", () => {
  test("meta random & 2147483647 < N is the probability N / 2^31 (iptables-nft's statistic match)", () => {
    const text = readFixture("writer-article.iptables-nft-ruleset.nft");
    expect(text).toContain("meta random & 2147483647 < 715827883");
    const r = traceDump(text);
    const three = r.services.find((s) => s.endpoints.length === 3)!;
    expect(three.endpoints[0].share).toBeCloseTo(715827883 / 2 ** 31, 12);
    expect(three.endpoints.reduce((a, e) => a + e.share, 0)).toBeCloseTo(1, 9);
  });
});

describe("every paste kind read", () => {
  test("-A lines only (no declarations): KUBE-MARK-MASQ shown whole but undeclared still marks and returns", () => {
    const r = traceDump(paste("p14-A-lines-only-helpers-shown.txt"));
    const both = [ep("10.244.4.2", 9000, 0.25), ep("10.244.5.3", 9000, 0.75)];
    expect(contract(r, (s) => s.clusterIP === "10.97.3.30")).toMatchObject({
      service: "media/thumbs:img",
      port: 9000,
      nodePort: 30909,
      endpoints: both,
      unresolved: [],
      nodePortEndpoints: both,
      nodePortUnresolved: [],
    });
    expectWarnings(r, [/^line 1: rules without a "\*nat" line/]);
  });

  test("-A lines only: any other undeclared chain's end stays unknown", () => {
    // the SVC chain's last (unconditional) rule is left out: what falls off its end is not shown
    const text = paste("p14-A-lines-only-helpers-shown.txt").replace(/^-A KUBE-SVC-THMB5QZ2LK8D4WRA -m comment --comment "media\/thumbs:img -> 10.244.5.3:9000".*\n/m, "");
    const r = traceDump(text);
    expect(contract(r, (s) => s.clusterIP === "10.97.3.30")).toMatchObject({
      endpoints: [ep("10.244.4.2", 9000, 0.25)],
      unresolved: [{ chain: "KUBE-SVC-THMB5QZ2LK8D4WRA", share: 0.75, reason: "the rest of the chain is not in the dump" }],
    });
  });

  test("a note with each chain as an -L -vn listing and then as -A lines: each block in its own format, rules counted once", () => {
    const r = traceDump(paste("p15-notes-L-listing-then-A-lines.md"));
    expect(r.format).toBe("iptables-list");
    const split = [ep("10.244.6.6", 8080, 0.2), ep("10.244.7.7", 8080, 0.8)];
    expect(contract(r, (s) => s.clusterIP === "10.95.30.3")).toMatchObject({ service: "reports/render:http", port: 80, nodePort: 30555, endpoints: split, unresolved: [], nodePortEndpoints: split, nodePortUnresolved: [] });
    // prose and numbered items between the blocks are skipped text, not cut rules
    expectWarnings(r, [/skipped: text before the first "Chain" line/, /skipped: a Markdown fence/, /skipped: a shell command/, /^line 18: skipped: not part of a dump: 2\. The node port/, /^line 29: skipped: not part of a dump: 3\. EXT/, /^line 49: skipped: not part of a dump: 4\./, /^line 69: skipped: not part of a dump: So the rules/, /KUBE-MARK-MASQ is not in the dump; assumed/]);
    expect(r.warnings.some((w) => /cut|unreadable/.test(w))).toBe(false);
  });

  test("listing and -A lines that disagree: the -A lines are read, and the difference is warned about", () => {
    // the note's -A lines for the SVC chain lack the 20% rule: every connection goes to 10.244.7.7
    const text = paste("p15-notes-L-listing-then-A-lines.md").replace(/^ {3}-A KUBE-SVC-RPTX3N8QW2ZL6KVB -m comment --comment "reports\/render:http -> 10.244.6.6:8080".*\n/m, "");
    const r = traceDump(text);
    expect(contract(r, (s) => s.clusterIP === "10.95.30.3").endpoints).toEqual([ep("10.244.7.7", 8080, 1)]);
    expect(r.warnings).toContainEqual(expect.stringMatching(/^line \d+: chain KUBE-SVC-RPTX3N8QW2ZL6KVB has 3 rules in its listing and 2 as -A lines; read from the -A lines$/));
  });

  test("nft -a with '# handle N' and chains cut by '....', one cut inside an elements list: every Service the maps name, unknown where cut", () => {
    const r = traceDump(paste("p16-nft-a-handles-cut.txt"));
    const third = 1 / 3;
    const round9 = (x: number) => Number(x.toFixed(9));
    const catalog = contract(r, (s) => s.clusterIP === "10.96.44.10");
    expect(catalog).toMatchObject({ service: "books/catalog:web", port: 8080, nodePort: 32111 });
    expect(catalog.endpoints).toEqual([ep("10.244.1.7", 8000, round9(third)), ep("10.244.2.8", 8000, round9(third))]);
    expect(catalog.unresolved).toEqual([{ chain: "endpoint-EE55FF66-books/catalog/tcp/web__10.244.3.9/8000", share: round9(third), reason: "not in the dump" }]);
    expect(contract(r, (s) => s.clusterIP === "10.96.44.11")).toMatchObject({ service: "books/resolver:dns", protocol: "udp", port: 5353, endpoints: [ep("10.244.2.20", 53, 1)], unresolved: [], nodePortEndpoints: null });
    // named by the element after the cut in the elements list; its chains are cut: unknown, not dropped
    expect(contract(r, (s) => s.clusterIP === "10.96.44.13")).toMatchObject({
      service: "books/gate:tls",
      port: 443,
      nodePort: 32113,
      endpoints: [],
      unresolved: [{ chain: "service-Z8VNC4HJ-books/gate/tcp/tls", share: 1, reason: "not in the dump" }],
      nodePortEndpoints: [],
      nodePortUnresolved: [{ chain: "external-Z8VNC4HJ-books/gate/tcp/tls", share: 1, reason: "not in the dump" }],
    });
    expectWarnings(r, [
      /^line 1: text outside a "table/,
      /^line 3: skipped: a shell command/,
      /^line 9: elements of service-ips were left out \("\.\.\."\)/,
      /^line 11: skipped: "\.\.\.\." stands for left-out lines/,
      /^line 56: skipped: "\.\.\.\." stands for left-out lines/,
      /jumps to chain (service|external)-Z8VNC4HJ-books\/gate\/tcp\/tls, which is not in the dump/,
      /jumps to chain endpoint-EE55FF66.*which is not in the dump/,
    ]);
  });

  test("a fragment of iptables-nft's table ip nat with no table line: read as table ip nat, with a warning", () => {
    const r = traceDump(paste("p17-nft-ruleset-fragment-no-table.txt"));
    expect(r.format).toBe("nft");
    // meta random & 2147483647 < 715827882: 715827882 / 2^31 of new connections
    const p = 715827882 / 2 ** 31;
    const split = [ep("10.244.9.1", 8443, Number(p.toFixed(9))), ep("10.244.9.2", 8443, Number((1 - p).toFixed(9)))];
    expect(contract(r, (s) => s.clusterIP === "10.99.8.80")).toMatchObject({ port: 8443, nodePort: 30843, endpoints: split, unresolved: [], nodePortEndpoints: split, nodePortUnresolved: [] });
    expectWarnings(r, [/^line 1: chains or maps with no "table \.\.\. \{" line before them; read as `table ip nat` \(iptables-nft's/, /KUBE-MARK-MASQ is not in the dump; assumed/]);
  });

  test("a fragment of kube-proxy's nftables table with no table line: read as table ip kube-proxy", () => {
    const table = readFixture("kube-proxy-nftables-overall.nft-table.nft");
    // from its first set on: no "table ip kube-proxy {" line, no table comment
    const body = table.slice(table.indexOf("\tset "));
    const r = traceDump(body);
    expect(r.format).toBe("nft");
    expect(r.warnings[0]).toMatch(/^line 1: chains or maps with no "table \.\.\. \{" line before them; read as `table ip kube-proxy`/);
    const whole = traceDump(table);
    expect(toContractJson(r).services).toEqual(toContractJson(whole).services);
  });

  test("multi-word comments without quotes (kube-proxy's unit-test style): PREROUTING reads, every Service traced", () => {
    const r = traceDump(paste("p18-save-unquoted-comments.txt"));
    const split = [ep("10.244.7.4", 7443, 0.5), ep("10.244.8.5", 7443, 0.5)];
    expect(contract(r, (s) => s.clusterIP === "10.98.12.7")).toMatchObject({ service: "ledger/api:grpc", port: 7443, nodePort: 31443, endpoints: split, unresolved: [], nodePortEndpoints: split, nodePortUnresolved: [] });
    expect(r.warnings).toEqual([]);
  });
});
