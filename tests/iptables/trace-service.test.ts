// `trace --service NS/NAME[:PORT]`: the one Service traced as the whole dump traces it, in any
// format; a Service the dump does not have is a warning, not a silent empty answer.
import { prepareDump, tracePrepared } from "../../verifier/iptables/trace";
import { parseArgs, traceOneService } from "../../verifier/cli/trace";
import { readFixture } from "./helpers";

const files = ["kube-proxy-iptables-overall.iptables-save.txt", "kube-proxy-1.20-era.iptables-save-c-nat.txt", "kube-proxy-iptables-overall.iptables-nvL.txt", "kube-proxy-nftables-overall.nft-table.nft"];

test.each(files)("%s: each Service alone is traced as in the whole dump", (file) => {
  const prepared = prepareDump(readFixture(file));
  const whole = tracePrepared(prepared, { evidence: false });
  const names = [...new Set(whole.services.map((s) => s.service?.split(":")[0]).filter((n): n is string => !!n))];
  expect(names.length).toBeGreaterThan(1);
  for (const name of names) {
    const [namespace, svc] = name.split("/") as [string, string];
    const one = traceOneService(prepared, { namespace, name: svc });
    expect(one.services).toEqual(whole.services.filter((s) => s.service?.split(":")[0] === name));
  }
});

test("a port picks one of the Service's ports; an unknown Service is said in a warning", () => {
  const prepared = prepareDump(readFixture("kube-proxy-iptables-overall.iptables-save.txt"));
  const whole = tracePrepared(prepared, { evidence: false });
  const first = whole.services.find((s) => s.service?.includes(":"))!;
  const [ns, rest] = first.service!.split("/") as [string, string];
  const [name, port] = rest.split(":") as [string, string];
  expect(traceOneService(prepared, { namespace: ns, name, port }).services).toEqual(whole.services.filter((s) => s.service === first.service));
  const none = traceOneService(prepared, { namespace: "nowhere", name: "none" });
  expect(none.services).toEqual([]);
  expect(none.warnings.at(-1)).toMatch(/no rule in this dump names Service nowhere\/none/);
});

test("the flag's forms and what is wrong with a bad one", () => {
  expect(parseArgs(["d.txt", "--service", "default/hello:http"]).service).toEqual({ namespace: "default", name: "hello", port: "http" });
  expect(parseArgs(["d.txt", "--service=kube-system/kube-dns"]).service).toEqual({ namespace: "kube-system", name: "kube-dns" });
  expect(parseArgs(["d.txt", "--service", "hello"]).problems).toEqual(['--service needs NAMESPACE/NAME or NAMESPACE/NAME:PORT (e.g. default/hello:http), got "hello"']);
});
