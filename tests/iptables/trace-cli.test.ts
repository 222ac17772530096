// The offline trace contract: `npm run --silent trace -- <dump> --json` prints exactly one JSON
// object on stdout. Golden files hold the expected output (review a diff before updating them).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, cliArgs, unwrapped } from "../support/cli";
import { FIXTURES } from "./helpers";

// As `npm run --silent trace` starts it (tests/support/cli.ts), minus npm's own start-up.
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [...cliArgs("verifier/cli/trace.ts"), ...args], { cwd: ROOT, input, encoding: "utf8", timeout: 60_000 });

describe("trace CLI", () => {
  test.each([
    "writer-article.iptables-save-c-nat.txt",
    "kube-proxy-nftables-overall.nft-table.nft",
    "kube-proxy-1.20-era.iptables-nvL.txt",
  ])("--json on %s prints exactly the golden JSON", (fixture) => {
    const r = run([join(FIXTURES, fixture), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const golden = readFileSync(join(__dirname, "golden", fixture.replace(/\.[^.]+$/, ".json")), "utf8");
    expect(r.stdout).toBe(golden);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  }, 60_000);

  test("- reads stdin; without --json a readable table", () => {
    const r = run(["-"], readFileSync(join(FIXTURES, "writer-article.iptables-save.txt"), "utf8"));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^format: iptables-save/);
    expect(r.stdout).toMatch(/default\/hello tcp {2}clusterIP 10\.96\.12\.34:80 {2}nodePort 30080/);
    expect(r.stdout).toMatch(/nodePort : 10\.244\.1\.3:8080 +50\.00%/);
    expect(r.stdout).toMatch(/default\/local-without[\s\S]*nodePort : \(none: new connections are not forwarded\)/);
  }, 60_000);

  test("--help", () => {
    const r = run(["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("usage: npm run --silent trace -- <dump-file | -> [--json]");
  }, 60_000);

  test.each([
    [["/nonexistent/nat.txt", "--json"], /cannot read "\/nonexistent\/nat.txt": no such file/],
    [[join(FIXTURES, "README.md")], /is not a dump this tool reads/],
    [["--json"], /no dump file given/],
    [["a", "b", "--bogus"], /only one dump file[\s\S]*unknown option --bogus/],
  ])("bad input %j exits 2 with a message naming the problem", (args, message) => {
    const r = run(args as string[]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(unwrapped(r.stderr)).toMatch(message);
  }, 60_000);

  test("--node-ip IP and --node-ip=IP pick the node address the same way", () => {
    const dump = join(FIXTURES, "writer-nodeips.iptables-save.txt");
    const spaced = run([dump, "--json", "--node-ip", "10.0.0.1"]);
    const joined = run([dump, "--json", "--node-ip=10.0.0.1"]);
    expect(spaced.status).toBe(0);
    expect(joined.stdout).toBe(spaced.stdout);
    expect(JSON.parse(joined.stdout).services[0].nodePortEndpoints).toEqual([]);
    const bad = run([dump, "--node-ip=nine"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--node-ip needs an IP address, got "nine"');
  }, 60_000);

  test("an empty dump exits 2", () => {
    const r = run(["-"], "\n");
    expect(r.status).toBe(2);
    expect(unwrapped(r.stderr)).toMatch(/"-" is empty; save a dump with/);
  }, 60_000);
});
