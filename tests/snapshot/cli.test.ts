// `npm run verify -- --snapshot / --ingress` and `npm run snapshot` as a user runs them (a child
// process): the example's JSON report, bad flags, a missing folder, no kubeconfig. Nothing
// here connects anywhere: the snapshot needs no network and the bad inputs stop before any.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, cliArgs, unwrapped } from "../support/cli";

jest.setTimeout(60_000);

const EXAMPLE = join(ROOT, "examples", "snapshot", "healthy-zonal");
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "snapshot-cli-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // started as its npm script starts it: compiled (dist/), not through ts-node (seconds per start)
    const child = spawn(process.execPath, [...cliArgs(script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: dir, NO_COLOR: "1", GOOGLE_OAUTH_ACCESS_TOKEN: "test-token-not-real", METADATA_SERVER_DETECTION: "none" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("verify --snapshot on the example --json: one report object, C9..C11 pass, exit 2 naming what is missing", async () => {
  const r = await run("verifier/cli/verify.ts", ["--snapshot", EXAMPLE, "--ingress", "study/hello", "--json"]);
  const report = JSON.parse(r.stdout) as { outcome: { exitCode: number; reason: string }; checks: { id: string; verdict: string }[]; problems: { source: string }[] };
  expect(r.code).toBe(2);
  expect(report.outcome.exitCode).toBe(2);
  expect(Object.fromEntries(report.checks.map((c) => [c.id, c.verdict]))).toMatchObject({ C9: "pass", C10: "pass", C11: "pass", C3: "cannot-tell", C12: "cannot-tell" });
  expect(report.outcome.reason).toMatch(/could not verify C2, C3, C4, C5, C6, C7, C12/);
  expect(report.problems.filter((p) => p.source === "input")).toEqual([]);
});

test("bad flags are listed together, each with what to do; --json still gives one object", async () => {
  const r = await run("verifier/cli/verify.ts", ["--snapshot", EXAMPLE, "--ingress", "hello", "--project", "p", "--outputs", "o.json", "--json"]);
  expect(r.code).toBe(2);
  expect(unwrapped(r.stderr)).toContain("--ingress hello: give NAMESPACE/NAME");
  expect(unwrapped(r.stderr)).toContain("--project: not with --snapshot");
  expect(unwrapped(r.stderr)).toContain("--outputs/--stack: not with --ingress or --snapshot");
  expect(JSON.parse(r.stdout).outcome.exitCode).toBe(2);
  const service = await run("verifier/cli/verify.ts", ["--service", "web"]);
  expect(unwrapped(service.stderr)).toContain("--service: only with --ingress or --snapshot");
});

test("a missing folder, a file given as the folder: exit 2 with the reason, no stack trace", async () => {
  for (const args of [["--snapshot", join(dir, "none")], ["--snapshot", __filename]]) {
    const r = await run("verifier/cli/verify.ts", args);
    expect(r.code).toBe(2);
    expect(unwrapped(r.stderr)).toMatch(/could not verify: --snapshot .*(no such folder|not a folder)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }
});

test("verify --ingress with no kubeconfig says how to get one", async () => {
  const r = await run("verifier/cli/verify.ts", ["--ingress", "default/web"]);
  expect(r.code).toBe(2);
  expect(unwrapped(r.stderr)).toContain("gcloud container clusters get-credentials");
});

test("npm run snapshot: --out is required, and an existing non-empty folder is refused", async () => {
  const none = await run("verifier/cli/snapshot.ts", []);
  expect(none.code).toBe(2);
  expect(unwrapped(none.stderr)).toContain("--out DIR: required");
  writeFileSync(join(dir, "old.json"), "{}");
  const full = await run("verifier/cli/snapshot.ts", ["--out", dir, "--ingress", "x"]);
  expect(full.code).toBe(2);
  expect(unwrapped(full.stderr)).toContain("exists and is not empty");
  expect(unwrapped(full.stderr)).toContain("--ingress x: give NAMESPACE/NAME");
});

test("a --markdown file that cannot be written after the run (a full disk): one line saying so, the report still printed, exit 2, no stack trace", async () => {
  const r = await run("verifier/cli/verify.ts", ["--snapshot", EXAMPLE, "--ingress", "study/hello", "--markdown", "/dev/full"]);
  expect(r.code).toBe(2);
  expect(unwrapped(r.stderr)).toMatch(/--markdown \/dev\/full: could not write the report \(ENOSPC\); the report is still printed below/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toMatch(/Path from the load balancer to the pods/);
});
