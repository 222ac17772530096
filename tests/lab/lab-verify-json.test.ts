// `lab verify --json` ends as `verify --json` does (verifier/cli/verify.ts): one object on stdout
// carrying the outcome, and, when the run did not pass, "exit N: reason" on stderr, the same reason;
// when the lab is not up, the object carries the reason and stderr the error. The compiled CLI on a
// real lab (root) with one fault applied. Own prefix and block (giplvj-, 10.245).
import { spawnSync } from "node:child_process";
import { labDown } from "../../lab/down";
import { labBreak } from "../../lab/faults";
import { labTopology } from "../../lab/topology";
import { labUp } from "../../lab/up";
import { ROOT, cliArgs, unwrapped } from "../support/cli";
import { describeWithNamespaces } from "../support/namespaces";

const t = labTopology({ prefix: "giplvj-", net: "10.245", healthCheckIntervalMs: 300 });
jest.setTimeout(120_000);

const labCli = (args: string[], prefix = t.prefix) =>
  spawnSync(process.execPath, [...cliArgs("lab/cli.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: { PATH: process.env.PATH, LAB_PREFIX: prefix, LAB_NET: t.net }, timeout: 90_000 });

describeWithNamespaces("lab verify --json (giplvj-, 10.245.0.0/16)", () => {
  test("no lab up: the object carries the reason, stderr the error, exit 2", () => {
    const r = labCli(["verify", "--json"], "gipnotup-");
    expect(r.status).toBe(2);
    const outcome = (JSON.parse(r.stdout) as { outcome: { exitCode: number; reason: string } }).outcome;
    expect(outcome.exitCode).toBe(2);
    expect(outcome.reason).toMatch(/^could not verify: lab "gipnotup-" is not up/);
    expect(unwrapped(r.stderr)).toMatch(/^lab: error: lab "gipnotup-" is not up/);
  });

  describe("a lab with a KUBE-SEP rule deleted on node-2", () => {
    beforeAll(async () => {
      await labDown(t);
      await labUp(t);
      await labBreak(t, "sep-rule-deleted");
    });
    afterAll(async () => {
      const down = await labDown(t);
      expect(down.leftovers).toEqual([]);
    });

    test("a failing run: the report on stdout, 'exit 1: reason' on stderr with the object's reason", () => {
      const r = labCli(["verify", "--json", "--requests", "12"]);
      expect(r.status).toBe(1);
      const report = JSON.parse(r.stdout) as { outcome: { exitCode: number; reason: string }; checks: unknown[] };
      expect(report.outcome.exitCode).toBe(1);
      expect(report.checks).toHaveLength(12);
      // --json: no progress lines, only the exit line
      expect(r.stderr).toBe(`exit 1: ${report.outcome.reason}\n`);
    });

    test("without --json the exit line ends the report on stdout and stderr has no exit line", () => {
      const r = labCli(["verify", "--requests", "12", "--no-color"]);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/\nexit 1: /);
      expect(r.stderr).not.toMatch(/^exit \d/m);
    });
  });
});
