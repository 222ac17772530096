// `npm run verify` as a user runs it (a child process): --help, bad flags, bad outputs, and outputs
// pointing at nothing reachable. Nothing here may connect anywhere but 127.0.0.1: as root the
// unreachable case runs in a fresh network namespace with only loopback.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, cliArgs, unwrapped } from "../support/cli";
import { validOutputs } from "./fixtures/outputs";

const CLI = cliArgs("verifier/cli/verify.ts");
const isRoot = process.getuid?.() === 0;
let dir: string;

beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "verify-cli-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Environment with no route to real credentials or the metadata server. */
function isolatedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    GOOGLE_OAUTH_ACCESS_TOKEN: "test-token-not-real",
    GOOGLE_APPLICATION_CREDENTIALS: join(dir, "no-credentials.json"),
    GCE_METADATA_HOST: "127.0.0.1:1",
    METADATA_SERVER_DETECTION: "none",
    NO_COLOR: "1",
  };
  return env;
}

function run(args: string[], opts: { netns?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const started = Date.now();
  const [cmd, argv] = opts.netns
    ? ["unshare", ["--net", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, ...CLI, ...args]]
    : [process.execPath, [...CLI, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...isolatedEnv(), ...opts.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** A 127.0.0.1 port that was just free: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

test("--help documents every flag and exits 0", async () => {
  const r = await run(["--help"]);
  expect(r.code).toBe(0);
  for (const flag of ["--outputs FILE", "--stack NAME", "--requests N", "--keep-alive", "--transport T", "--timeout SECONDS", "--json", "--include-dumps", "--markdown FILE", "--no-color", "--trust-host-key-on-first-use", "--help"]) {
    expect(r.stdout).toContain(flag);
  }
  expect(r.stdout).toMatch(/^exit codes:\n {2}0 {2}every claim passed/m);
}, 30_000);

test("bad flags: every problem at once, exit 2", async () => {
  const r = await run(["--requests", "5000", "--transport", "telnet", "--timeout", "0"]);
  expect(r.code).toBe(2);
  expect(unwrapped(r.stderr)).toContain("--requests 5000: must be a whole number 0..1000");
  const asJson = await run(["--requests", "5000", "--json"]);
  expect(asJson.code).toBe(2);
  expect(JSON.parse(asJson.stdout).outcome.reason).toContain("--requests 5000");
  expect(unwrapped(r.stderr)).toContain("--transport telnet: must be direct or iap");
  expect(unwrapped(r.stderr)).toContain("--timeout 0: must be a whole number 1..600");
  const unwritable = await run(["--markdown", join(dir, "no-such-dir", "report.md"), "--include-dumps"]);
  expect(unwritable.code).toBe(2);
  expect(unwrapped(unwritable.stderr)).toContain(`--markdown ${join(dir, "no-such-dir", "report.md")}: cannot write the report there: no directory ${join(dir, "no-such-dir")}`);
  expect(unwrapped(unwritable.stderr)).toContain("--include-dumps: only with --json");
  const both = await run(["--outputs", join(dir, "o.json"), "--stack", "dev"]);
  expect(both.code).toBe(2);
  expect(unwrapped(both.stderr)).toContain("--stack dev: not read when --outputs is given");
  const directory = await run(["--markdown", dir]);
  expect(unwrapped(directory.stderr)).toContain(`--markdown ${dir}: is a directory`);
  const unknown = await run(["--frobnicate"]);
  expect(unknown.code).toBe(2);
  expect(unwrapped(unknown.stderr)).toContain("--frobnicate");
}, 30_000);

test("outputs with missing keys: exit 2 naming them all, secrets not shown", async () => {
  const file = join(dir, "partial.json");
  const raw = validOutputs({ sshPrivateKey: "SECRETMARKER-not-a-key" });
  delete raw.nodePort;
  delete raw.sshUser;
  writeFileSync(file, JSON.stringify(raw));
  const r = await run(["--outputs", file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("nodePort: missing");
  expect(r.stderr).toContain("sshUser: missing");
  expect(r.stderr).toContain("sshPrivateKey: not a PEM");
  expect(r.stderr + r.stdout).not.toContain("SECRETMARKER");
  // --json still prints one object, carrying the reason
  const j = await run(["--outputs", file, "--json"]);
  expect(j.code).toBe(2);
  expect(JSON.parse(j.stdout).outcome).toMatchObject({ exitCode: 2, reason: expect.stringContaining("nodePort: missing") });
  expect(j.stdout).not.toContain("SECRETMARKER");
}, 30_000);

test("outputs pointing at nothing reachable: exit 2 quickly with the reason", async () => {
  if (!isRoot) console.warn("cli.test: not root, so the unreachable-stack run is not sealed in a network namespace; it relies on 127.0.0.1-only outputs and credential-less env");
  const port = await closedPort();
  const file = join(dir, "unreachable.json");
  const kubeconfig = (validOutputs().kubeconfig as string).replace("https://34.133.20.10", `https://127.0.0.1:${port}`);
  writeFileSync(file, JSON.stringify(validOutputs({ kubeconfig, url: `http://127.0.0.1:${port}/`, loadBalancerIp: "127.0.0.1" })));
  const r = await run(["--outputs", file, "--requests", "3", "--timeout", "5", "--no-color"], { netns: isRoot, env: { COLUMNS: "80" } });
  expect(r.code).toBe(2);
  // a pipe takes the width from COLUMNS: no line of the report is wider
  const widest = Math.max(...r.stdout.split("\n").map((l) => [...l].length));
  expect(widest).toBeLessThanOrEqual(80);
  expect(widest).toBeGreaterThan(60); // wrapped to the width, not cut short
  expect(r.stdout).toMatch(/^exit 2: could not verify C1/m);
  expect(r.stdout).toContain("127.0.0.1");
  expect(r.stdout).toMatch(/^C12\s+cannot tell\s+None of the 3 requests got an HTTP/m);
  expect(r.stdout).not.toMatch(/\x1b\[/);
  expect(r.stdout + r.stderr).not.toContain("BEGIN OPENSSH PRIVATE KEY");
  expect(r.ms).toBeLessThan(25_000);

  // the same run as JSON + Markdown: one parsable object on stdout, the picture in the file
  const md = join(dir, "report.md");
  const j = await run(["--outputs", file, "--requests", "0", "--json", "--markdown", md], { netns: isRoot });
  expect(j.code).toBe(2);
  const report = JSON.parse(j.stdout);
  expect(report.outcome.exitCode).toBe(2);
  expect(report.checks).toHaveLength(12);
  expect(report.problems.map((p: { message: string }) => p.message)).toContain("no request was sent (--requests 0)");
  expect(j.stdout).not.toContain("BEGIN OPENSSH PRIVATE KEY");
  expect(j.stderr).not.toMatch(/^ {2}(ok|FAIL|skip) /m); // --json: no progress lines
  expect(readFileSync(md, "utf8")).toMatch(/```mermaid\n[\s\S]*?^flowchart TB$/m);
  expect(j.stderr).toContain(`wrote ${md}`);
}, 60_000);
