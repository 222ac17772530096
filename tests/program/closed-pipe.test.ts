// A reader that stops early (`npm run --silent verify ... | head`): every CLI ends as a shell tool
// does when its pipe closes, killed by SIGPIPE (status 141 in the shell), with no stack trace and
// no "Unhandled 'error' event". Each CLI runs as its npm script runs it; the read end of its stdout
// (or stderr) is closed before it writes, so its first write meets EPIPE.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, cliArgs } from "../support/cli";

jest.setTimeout(60_000);

let home: string;
beforeAll(() => (home = mkdtempSync(join(tmpdir(), "closed-pipe-"))));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Starts the CLI with the read end of `closed` shut at once; the other stream is collected. */
function runClosed(entry: string, argv: string[], closed: "stdout" | "stderr" = "stdout"): Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliArgs(entry), ...argv], {
      cwd: ROOT,
      env: { PATH: "/nonexistent", HOME: home, NO_COLOR: "1", GOOGLE_OAUTH_ACCESS_TOKEN: "test-token-not-real", METADATA_SERVER_DETECTION: "none" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child[closed].destroy();
    let other = "";
    (closed === "stdout" ? child.stderr : child.stdout).on("data", (d: Buffer) => (other += d.toString()));
    child.on("close", (code, signal) => resolve({ code, signal, other }));
  });
}

const EXAMPLE = join(ROOT, "examples", "snapshot", "recorded-zonal");
const DUMP = join(ROOT, "tests", "fixtures", "writer-article.iptables-save.txt");

test.each([
  ["verify, a whole report", "verifier/cli/verify.ts", ["--snapshot", EXAMPLE]],
  ["verify --json", "verifier/cli/verify.ts", ["--snapshot", EXAMPLE, "--json"]],
  ["trace", "verifier/cli/trace.ts", [DUMP]],
  ["trace --json", "verifier/cli/trace.ts", [DUMP, "--json"]],
  ["lab --help", "lab/cli.ts", ["--help"]],
  ["snapshot --help", "verifier/cli/snapshot.ts", ["--help"]],
  ["sweep --help", "verifier/cli/sweep.ts", ["--help"]],
  ["preflight --help", "scripts/preflight.ts", ["--help"]],
])("%s: stdout closed early: ended by SIGPIPE, no stack trace", async (_what, entry, argv) => {
  const r = await runClosed(entry, argv);
  expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: "SIGPIPE" });
  expect(r.other).not.toMatch(/Unhandled 'error' event|EPIPE|\n\s+at /);
});

test("verify with stderr closed early (`2>&1 | head`): the progress lines meet EPIPE, ended by SIGPIPE", async () => {
  const r = await runClosed("verifier/cli/verify.ts", ["--snapshot", EXAMPLE], "stderr");
  expect({ code: r.code, signal: r.signal }).toEqual({ code: null, signal: "SIGPIPE" });
  expect(r.other).not.toMatch(/Unhandled 'error' event|\n\s+at /);
});

test("snapshot with its progress lines' reader gone: nothing half-written stays beside --out, exit 141", async () => {
  const parent = mkdtempSync(join(tmpdir(), "closed-pipe-snap-"));
  try {
    // No kubeconfig: the run stops before any network, after writing its error line to the closed stderr.
    const r = await runClosed("verifier/cli/snapshot.ts", ["--out", join(parent, "snap"), "--ingress", "default/web"], "stderr");
    expect(r.signal === "SIGPIPE" || r.code === 141).toBe(true);
    expect(readdirSync(parent)).toEqual([]);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
