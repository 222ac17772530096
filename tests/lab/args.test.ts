// The lab CLI's argument rules a user meets first: --help, options given to a command that does not
// take them, --option=value, and a --markdown path that cannot be written (checked before any work).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { USAGE, parseArgs } from "../../lab/args";
import { ROOT, cliArgs, unwrapped } from "../support/cli";


describe("lab CLI arguments", () => {
  test("--help and -h ask for the usage, with or without a command", () => {
    for (const argv of [["--help"], ["-h"], ["verify", "--help"]]) {
      const a = parseArgs(argv);
      expect(a.help).toBe(true);
      expect(a.errors).toEqual([]);
    }
    expect(USAGE).toMatch(/-h, --help/);
    expect(USAGE).toMatch(/^exit codes:\n {2}0 {2}done/m);
  });

  test("an option of another command is an error naming the command that takes it", () => {
    expect(parseArgs(["status", "--json"]).errors).toEqual(["--json is an option of lab verify, not of lab status"]);
    expect(parseArgs(["down", "--keep-alive", "--requests", "5"]).errors).toEqual([
      "--keep-alive is an option of lab up and lab verify, not of lab down",
      "--requests is an option of lab verify, not of lab down",
    ]);
    expect(parseArgs(["up", "--keep-alive"]).errors).toEqual([]);
  });

  test("--option=value reads like --option value", () => {
    expect(parseArgs(["verify", "--requests=20", "--markdown=r.md"])).toMatchObject({ requests: 20, markdown: "r.md", errors: [] });
    expect(parseArgs(["verify", "--requests=0"]).errors).toEqual(["--requests 0: must be a whole number 1..1000"]);
    expect(parseArgs(["verify", "--json=yes"]).errors).toEqual(['--json takes no value, got "--json=yes"']);
    expect(parseArgs(["verify", "--requests", "1e2"]).errors).toEqual(["--requests 1e2: must be a whole number 1..1000"]);
  });
});

describe("npm run lab as a user runs it (no root needed: these stop before any lab work)", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "lab-args-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const lab = (...argv: string[]) =>
    spawnSync(process.execPath, [...cliArgs("lab/cli.ts"), ...argv], {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: dir },
      timeout: 60_000,
    });

  test("--help prints the usage on stdout and exits 0", () => {
    const r = lab("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("usage: npm run lab -- <command>");
    expect(r.stderr).toBe("");
  }, 60_000);

  test("a --markdown path in a missing directory is refused up front with exit 2, with the other mistakes", () => {
    const r = lab("verify", "--markdown", join(dir, "missing", "r.md"), "--requests", "0");
    expect(r.status).toBe(2);
    expect(unwrapped(r.stderr)).toContain(`--markdown ${join(dir, "missing", "r.md")}: cannot write the report there: no directory ${join(dir, "missing")}`);
    expect(r.stderr).toContain("--requests 0: must be a whole number 1..1000");
    // The file name is the option's value, not a stray argument (the CLI runs compiled, not through jest's transform).
    expect(r.stderr).not.toContain("unexpected argument");
    expect(r.stdout).toBe("");
  }, 60_000);
});

describe("lab break and repair arguments", () => {
  test("break takes --list or one fault, not both, not neither", () => {
    expect(parseArgs(["break", "--list"])).toMatchObject({ command: "break", list: true, errors: [] });
    expect(parseArgs(["break", "nat-flushed"])).toMatchObject({ command: "break", fault: "nat-flushed", errors: [] });
    expect(parseArgs(["break"]).errors).toEqual(["lab break needs a fault (see lab break --list)"]);
    expect(parseArgs(["break", "--list", "nat-flushed"]).errors).toEqual(["lab break takes --list or a fault, not both"]);
    expect(parseArgs(["break", "a", "b"]).errors).toEqual(['unexpected argument "b"']);
    expect(parseArgs(["repair", "--list"]).errors).toEqual(["--list is an option of lab break, not of lab repair"]);
    expect(parseArgs(["repair"]).errors).toEqual([]);
  });
});
