// Every CLI of the project speaks one way (docs/cli.md): `--help` starts with "usage: npm run <cli>",
// has the same headings ("options:", "exit codes:"), and a bad command line gets one
// "<cli>: error: ..." line per problem, all of them at once, then one line pointing to --help, never
// the usage again. Nothing is wider than 100 columns. Each CLI runs as its npm script runs it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorText, PROGRESS_MARK, progressLine } from "../../verifier/cli/flags";
import { ROOT, cliArgs } from "../support/cli";

const WIDTH = 100;

interface Cli {
  name: string;
  entry: string;
  /** the first line of --help starts with this */
  usage: string;
  /** a command line with several problems, and a text each problem's line must hold */
  bad: string[];
  problems: RegExp[];
}

const CLIS: Cli[] = [
  { name: "verify", entry: "verifier/cli/verify.ts", usage: "usage: npm run verify -- ", bad: ["--bogus", "--requests", "5000", "--transport", "telnet"], problems: [/unknown option --bogus/, /--requests 5000: must be/, /--transport telnet: must be/] },
  { name: "snapshot", entry: "verifier/cli/snapshot.ts", usage: "usage: npm run snapshot -- ", bad: ["--bogus", "--out"], problems: [/unknown option --bogus/, /--out needs a value/] },
  { name: "trace", entry: "verifier/cli/trace.ts", usage: "usage: npm run --silent trace -- ", bad: ["--bogus", "--node-ip", "nine"], problems: [/unknown option --bogus/, /--node-ip needs an IP address, got "nine"/, /no dump file given/] },
  { name: "sweep", entry: "verifier/cli/sweep.ts", usage: "usage: npm run sweep -- ", bad: ["--bogus", "--uid", "X"], problems: [/unknown option --bogus/, /--uid "X" is not an ingress uid/] },
  { name: "lab", entry: "lab/cli.ts", usage: "usage: npm run lab -- ", bad: ["break", "nosuch", "--bogus", "--json"], problems: [/unknown option --bogus/, /--json is an option of lab verify/, /unknown fault "nosuch"/] },
  { name: "preflight", entry: "scripts/preflight.ts", usage: "usage: npm run preflight ", bad: ["--bogus", "stray"], problems: [/unknown option --bogus/, /unexpected argument "stray"/] },
];

let home: string;
beforeAll(() => (home = mkdtempSync(join(tmpdir(), "cli-style-"))));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function run(cli: Cli, argv: string[]) {
  // No PATH beyond node's own directory: nothing a CLI could reach for (pulumi, gcloud) is found.
  return spawnSync(process.execPath, [...cliArgs(cli.entry), ...argv], { cwd: ROOT, encoding: "utf8", env: { PATH: "/nonexistent", HOME: home }, timeout: 60_000 });
}

const wide = (text: string) => text.split("\n").filter((l) => l.length > WIDTH);

describe.each(CLIS)("npm run $name", (cli) => {
  test("--help: usage first, the shared headings, nothing wider than 100 columns, exit 0", () => {
    const r = run(cli, ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    expect(lines[0]!.startsWith(cli.usage)).toBe(true);
    expect(lines).toContain("options:");
    expect(lines).toContain("exit codes:");
    // every heading is a lower-case word or two and a colon, alone on its line, after a blank line
    for (const [i, l] of lines.entries()) if (/^[a-z][a-z ]*:$/.test(l)) expect(lines[i - 1]).toBe("");
    expect(r.stdout).not.toMatch(/^(Usage|Options|Exit codes|exit status)\b/m);
    expect(wide(r.stdout)).toEqual([]);
  }, 60_000);

  test("a bad command line: one error line per problem, all of them, one pointer to --help, exit 2", () => {
    const r = run(cli, cli.bad);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(wide(r.stderr)).toEqual([]);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[lines.length - 1]).toBe(`${cli.name}: see npm run ${cli.name === "trace" ? "--silent trace" : cli.name} -- --help`);
    // an error line starts each problem; a wrapped one continues indented
    const body = lines.slice(0, -1);
    for (const l of body) expect(l).toMatch(new RegExp(`^(${cli.name}: error: |  \\S)`));
    const errors = body.join("\n").split(new RegExp(`^${cli.name}: error: `, "m")).filter((e) => e !== "");
    expect(errors).toHaveLength(cli.problems.length);
    cli.problems.forEach((p, i) => expect(errors[i]!.replace(/\n {2}/g, " ")).toMatch(p));
    expect(r.stderr).not.toMatch(/usage:/i);
  }, 60_000);
});

test("progress lines and error messages wrap to 100 columns, continuing indented", () => {
  const long = `k8s2-fr-q7t2mz4k-study-hello-xk2v9p1d 34.149.113.70; ${"a gap not in the folder ".repeat(6)}`;
  const progress = progressLine(PROGRESS_MARK.ok, "load balancer (Compute API)", long).split("\n");
  expect(progress.length).toBeGreaterThan(1);
  expect(progress[0]).toMatch(/^ {2}ok {3}load balancer \(Compute API\): /);
  for (const l of progress.slice(1)) expect(l).toMatch(/^ {9}\S/);
  const errors = errorText("lab", [`unknown fault "nosuch"; the faults are: ${"health-check-301, ".repeat(12)}`]).trimEnd().split("\n");
  expect(errors[0]).toMatch(/^lab: error: unknown fault "nosuch"/);
  for (const l of errors.slice(1)) expect(l).toMatch(/^ {2}\S/);
  for (const l of [...progress, ...errors]) expect(l.length).toBeLessThanOrEqual(WIDTH);
});

test("preflight with nothing in place (no pulumi, no credentials, no passphrase): every line fits, fixes stay whole", () => {
  const preflight = CLIS.find((c) => c.name === "preflight")!;
  const r = run(preflight, []);
  expect(r.status).toBe(1);
  const lines = r.stdout.trimEnd().split("\n");
  // the checks that fail here are the ones whose lines were widest
  expect(r.stdout).toMatch(/^\[FAIL\] pulumi CLI: /m);
  expect(r.stdout).toMatch(/^\[FAIL\] application-default credentials: /m);
  expect(r.stdout).toMatch(/^\[FAIL\] secrets passphrase: /m);
  expect(wide(r.stdout + r.stderr)).toEqual([]);
  // a check starts "[mark] ", its fix "       fix: ", anything else continues two spaces further in
  for (const l of lines.slice(1, -1)) expect(l).toMatch(/^(\[(ok {2}|FAIL|-- {2}|warn)\] \S| {7}fix: \S| {9}\S| {12}\S| {14}\S)/);
  // the passphrase fix is one whole command a line, each as the shell takes it
  const fix = lines.findIndex((l) => l.startsWith("       fix: mkdir -p ~/.config/gke-ingress-path"));
  expect(fix).toBeGreaterThan(0);
  expect(lines.slice(fix, fix + 3).map((l) => l.trim())).toEqual([
    "fix: mkdir -p ~/.config/gke-ingress-path",
    "(umask 077; openssl rand -base64 24 > ~/.config/gke-ingress-path/passphrase)",
    "export PULUMI_CONFIG_PASSPHRASE_FILE=~/.config/gke-ingress-path/passphrase",
  ]);
  expect(lines[lines.length - 1]).toMatch(/^preflight: \d+ missing, /);
}, 60_000);

test("check-node's message for a Node that is too old fits 100 columns, continuing two spaces in", () => {
  const check = require("../../scripts/check-node.js") as { problem(version: string, engines: string, execPath?: string): string | undefined };
  const message = check.problem("v20.19.2", ">=24.9.0", "/home/someone/.local/share/fnm/node-versions/v20.19.2/installation/bin/node")!;
  const lines = message.split("\n");
  expect(lines[0]).toMatch(/^gke-ingress-path needs Node\.js 24\.9\.0 or newer/);
  expect(lines.length).toBeGreaterThan(5); // the first line and the node.sh line had to wrap
  expect(wide(message)).toEqual([]);
  // nothing lost: the words are the unwrapped message's words
  expect(message).toContain("/home/someone/.local/share/fnm/node-versions/v20.19.2/installation/bin/node");
  expect(message).toMatch(/source \.ci\/node\.sh/);
  expect(lines.filter((l) => /^ {2}\S/.test(l) || /^ {4}\S/.test(l) || /^\S/.test(l))).toEqual(lines);
});
