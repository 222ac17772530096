// lab verify takes verify's fan-out flags: --nodes WHICH (all, a sample, names) and --concurrency N,
// read by the same functions (verifier/cli/options.ts) and described by the same help text, while
// lab up keeps --nodes N as the number of nodes to build.
import { USAGE, parseArgs } from "../../lab/args";
import { HELP } from "../../verifier/cli/verify";

describe("lab verify --nodes and --concurrency", () => {
  test("reach the options as verify reads them", () => {
    expect(parseArgs(["verify", "--nodes", "10", "--concurrency", "4"])).toMatchObject({ selection: { kind: "count", count: 10 }, concurrency: 4, errors: [] });
    expect(parseArgs(["verify", "--nodes=node-1,node-3"])).toMatchObject({ selection: { kind: "named", names: ["node-1", "node-3"] }, errors: [] });
    // the flag before the command reads the same
    expect(parseArgs(["--concurrency=2", "--nodes", "5", "verify"])).toMatchObject({ command: "verify", selection: { kind: "count", count: 5 }, concurrency: 2, errors: [] });
    const plain = parseArgs(["verify", "--nodes", "all"]);
    expect(plain.selection).toBeUndefined();
    expect(plain.concurrency).toBeUndefined();
    expect(plain.nodes).toBeUndefined();
  });

  test("bad values are listed together, in verify's words", () => {
    expect(parseArgs(["verify", "--concurrency", "0", "--nodes", "Node_1", "--requests", "0"]).errors).toEqual([
      "--concurrency 0: must be a whole number 1..256",
      "--requests 0: must be a whole number 1..1000",
      '--nodes Node_1: give "all", a number, or node names (lower-case letters, digits, "-", ".") separated by commas',
    ]);
    expect(parseArgs(["verify", "--concurrency", "257"]).errors).toEqual(["--concurrency 257: must be a whole number 1..256"]);
    expect(parseArgs(["verify", "--nodes", "--concurrency"]).errors).toEqual([
      "--concurrency needs a value: a whole number 1..256",
      "--nodes needs a value: all, a number, or node names separated by commas (e.g. --nodes node-1,node-2)",
    ]);
  });

  test("lab up keeps --nodes as a count; --concurrency is verify's only", () => {
    expect(parseArgs(["up", "--nodes", "12"])).toMatchObject({ nodes: 12, errors: [] });
    expect(parseArgs(["up", "--nodes", "node-1"]).errors).toEqual(['--nodes must be a whole number 3..50 (the pods run on node-1 and node-3), got "node-1"']);
    expect(parseArgs(["up", "--concurrency", "4"]).errors).toEqual(["--concurrency is an option of lab verify, not of lab up"]);
    expect(parseArgs(["status", "--nodes", "4"]).errors).toEqual(["--nodes is an option of lab up and lab verify, not of lab status"]);
  });

  test("the help describes them as verify's help does", () => {
    // an entry of a help text: the flag's line and the lines under it, as one string
    const entry = (text: string, flag: string) => {
      const lines = text.split("\n");
      const at = lines.findIndex((l) => l.startsWith(`  ${flag} `));
      expect(at).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > at && !/^ {22}\S/.test(l));
      return lines.slice(at, end).map((l) => l.slice(22).trim()).join(" ");
    };
    expect(entry(USAGE, "--nodes WHICH")).toBe(`verify: ${entry(HELP, "--nodes WHICH")}`);
    expect(entry(USAGE, "--concurrency N")).toBe("verify: nodes read over SSH at the same time, 1..256 (default 32)");
    expect(entry(HELP, "--concurrency N")).toBe("nodes read over SSH at the same time, 1..256 (default 32 direct, 8 iap: each IAP session is a gcloud process of its own)");
    expect(entry(USAGE, "--nodes N")).toMatch(/^up: how many nodes, 3\.\.50/);
    for (const line of [...USAGE.split("\n"), ...HELP.split("\n")]) expect(line.length).toBeLessThanOrEqual(100);
  });
});
