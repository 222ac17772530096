// The writer's rules loaded into a real kernel (iptables nft and legacy backends, in a network
// namespace of our own), read back with iptables-save / iptables -L, must trace to the spec.
import { execFileSync } from "node:child_process";
import { describeWithNamespaces } from "../support/namespaces";
import { writeNatRules } from "../../verifier/iptables/kube-proxy-rules";
import { traceDump } from "../../verifier/iptables/trace";
import { articleSpec, nodeIPsSpec } from "../fixtures/writer-specs";
import { expectTraceMatches, expectedFromSpec } from "./helpers";


describeWithNamespaces("writer -> kernel -> dump -> trace", () => {
  const ns = `gipt-rt-${process.pid}`;
  // stderr piped, not inherited: iptables-nft's "legacy tables present" warnings would land in the test run's output
  const inNs = (cmd: string, args: string[], input?: string) => execFileSync("ip", ["netns", "exec", ns, cmd, ...args], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });

  beforeAll(() => execFileSync("ip", ["netns", "add", ns]));
  afterAll(() => {
    try {
      execFileSync("ip", ["netns", "del", ns]);
    } catch {
      // already gone
    }
  });

  test.each([
    ["iptables-nft", articleSpec],
    ["iptables-legacy", articleSpec],
    ["iptables-nft", nodeIPsSpec],
  ] as const)("%s keeps the rules' meaning (%#)", (backend, spec) => {
    inNs(`${backend}-restore`, [], writeNatRules(spec));
    const expected = expectedFromSpec(spec);
    for (const dump of [inNs(`${backend}-save`, ["-t", "nat"]), inNs(`${backend}-save`, ["-c"]), inNs(backend, ["-t", "nat", "-nvL"]), inNs(backend, ["-t", "nat", "-nL"])]) {
      const result = traceDump(dump);
      expect(result.warnings).toEqual([]);
      expectTraceMatches(result, expected);
    }
    // leave the next backend an empty table
    inNs(`${backend}-restore`, [], "*nat\nCOMMIT\n");
  });
}, ["iptables-legacy-save", "iptables-legacy-restore"]);
