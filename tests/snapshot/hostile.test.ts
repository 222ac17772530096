// A snapshot folder is safe to read: links out of it, loops, alias bombs, deep nesting, odd
// encodings, 50 MB of junk and a FIFO end, within a capped heap, with one clear line per file and
// no content echoed; good files beside them (UTF-16 with a BOM among them) are still read.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { readSnapshotFolder } from "../../verifier/snapshot/folder";
import { cliArgs, unwrapped } from "../support/cli";
import { HOSTILE, makeHostileFolder, OUTSIDE_SECRET, worldIngress } from "../support/hostile-folder";

jest.setTimeout(120_000);

const ROOT = join(__dirname, "..", "..");
let base: string;
let dir: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "gip-hostile-"));
  dir = join(base, "snap");
  makeHostileFolder(dir, join(base, "outside"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The CLI as a user runs it, with the heap capped well below what the bombs needed (GBs): a blow-up is a crash, exit 134. */
function verify(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--max-old-space-size=384", ...cliArgs("verifier/cli/verify.ts"), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: base, NO_COLOR: "1", TS_NODE_PROJECT: join(ROOT, "tsconfig.json"), TS_NODE_TRANSPILE_ONLY: "1" },
    });
    // a safety net, not a measurement: a run that hangs (a FIFO read) is killed and fails below
    const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test("verify --snapshot on the hostile folder: ends, one line per hostile file, the good files read, nothing echoed", async () => {
  const r = await verify(["--snapshot", dir, "--json"]);
  expect({ code: r.code, signal: r.signal }).toEqual({ code: 2, signal: null });
  const report = JSON.parse(r.stdout) as { problems: { source: string; message: string }[]; target: { origin?: { ingress?: string } } };
  // the Ingress came from the UTF-16LE file with a BOM
  expect(report.target.origin?.ingress).toBe(worldIngress().ref);
  const lines = report.problems.filter((p) => p.source === "input").map((p) => p.message);
  for (const input of HOSTILE) {
    const about = lines.filter((l) => l.startsWith(`${input.file}:`));
    if (input.expect) expect({ file: input.file, about }).toEqual({ file: input.file, about: [expect.stringMatching(input.expect)] });
    else expect({ file: input.file, about }).toEqual({ file: input.file, about: [] });
  }
  // each line short, its control characters escaped
  for (const line of lines) expect({ line: line.slice(0, 80), length: line.length, control: /[\u0000-\u0008\u000b-\u001f]/.test(line) }).toEqual({ line: line.slice(0, 80), length: expect.any(Number), control: false });
  expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1000);
  // nothing under the linked /etc or the loop was walked
  expect(lines.filter((l) => /^(etc|self)\//.test(l))).toEqual([]);
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain(OUTSIDE_SECRET);
    expect(text).not.toMatch(/\u0000|\\u0000/);
    expect(text).not.toMatch(/Maximum call stack|heap out of memory|Invalid string length|\n\s+at /);
  }
});

test("in-process: the UTF-16BE file is read, the linked file inside the folder is read once, Latin-1 is not read", () => {
  const local = join(base, "inside");
  mkdirSync(join(local, "sub"), { recursive: true });
  writeFileSync(join(local, "sub", "ingress.yaml"), yaml.dump(worldIngress().object));
  symlinkSync("sub/ingress.yaml", join(local, "link-to-ingress.yaml"));
  symlinkSync("sub", join(local, "link-to-sub"));
  const inside = readSnapshotFolder(local);
  expect(inside.warnings).toEqual([]);
  expect(inside.kube.map((k) => k.kind)).toEqual(["Ingress"]);

  const folder = readSnapshotFolder(dir);
  expect(folder.compute.map((c) => c.name)).toEqual(["cafe"]);
  expect(folder.kube.map((k) => `${k.kind} ${k.namespace}/${k.name}`)).toEqual([`Ingress ${worldIngress().ref}`]);
});

test("an Ingress only in a file that cannot be read: the error names the file and the fix, not the client's HTTP-Code text", async () => {
  const only = join(base, "only");
  mkdirSync(only);
  writeFileSync(join(only, "ingress.yaml"), Buffer.from(yaml.dump(worldIngress().object), "utf16le"));
  for (const args of [["--ingress", worldIngress().ref], []]) {
    const r = await verify(["--snapshot", only, ...args]);
    expect(r.code).toBe(2);
    expect(unwrapped(r.stderr)).toMatch(/could not verify: .*ingress\.yaml: looks like UTF-16LE text without a byte-order mark; not read: convert it to UTF-8 \(iconv -f UTF-16LE -t UTF-8 ingress\.yaml/);
    expect(r.stderr).not.toMatch(/HTTP-Code|Unknown API Status Code|snapshot-missing/);
  }
});
