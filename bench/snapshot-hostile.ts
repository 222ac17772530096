// Prints, per hostile snapshot input (tests/support/hostile-folder.ts), what `npm run verify --
// --snapshot DIR --json` costs with the compiled CLI: exit code, wall time and peak RSS (GNU time's
// %e and %M), for a folder holding the stand-in world's Ingress plus that one input; then the
// Ingress alone (the baseline: Node, the clients, the report) and every input together.
// Run: npx ts-node bench/snapshot-hostile.ts   (needs /usr/bin/time; builds dist/ when stale)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { HOSTILE, makeHostileFolder, worldIngress, type HostileInput } from "../tests/support/hostile-folder";

const ROOT = join(__dirname, "..");
const TIME = "/usr/bin/time";

function measure(dir: string): { exit: string; wall: string; rss: string; line: string } {
  const r = spawnSync(TIME, ["-f", "%x %e %M", process.execPath, "-r", "./scripts/launch.js", "dist/verifier/cli/verify.js", "--snapshot", dir, "--json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [exit = "?", wall = "?", rss = "?"] = last.split(" ");
  let line = "";
  try {
    const report = JSON.parse(r.stdout) as { problems?: { source: string; message: string }[] };
    line = (report.problems ?? []).filter((p) => p.source === "input").map((p) => p.message).join(" | ");
  } catch {
    line = `(no JSON report: ${r.stderr.split("\n")[0]?.slice(0, 120)})`;
  }
  return { exit, wall, rss: rss === "?" ? rss : `${Math.round(Number(rss) / 1024)} MB`, line };
}

function folderWith(base: string, name: string, inputs: HostileInput[]): string {
  const dir = join(base, name, "snap");
  makeHostileFolder(dir, join(base, name, "outside"), inputs);
  if (!inputs.some((i) => i.file === "ingress-utf16.yaml")) writeFileSync(join(dir, "ingress.yaml"), yaml.dump(worldIngress().object));
  return dir;
}

function main(): void {
  if (!existsSync(TIME)) {
    console.error(`${TIME} is needed for the peak RSS (Debian: apt-get install time)`);
    process.exitCode = 2;
    return;
  }
  execFileSync(process.execPath, ["scripts/build.js"], { cwd: ROOT, stdio: "inherit" });
  const base = mkdtempSync(join(tmpdir(), "gip-hostile-bench-"));
  try {
    const rows: [string, ReturnType<typeof measure>][] = [];
    mkdirSync(join(base, "baseline"));
    rows.push(["(baseline: the Ingress alone)", measure(folderWith(base, "baseline", []))]);
    HOSTILE.forEach((input, i) => rows.push([input.name, measure(folderWith(base, `h${i}`, [input]))]));
    rows.push(["all of the above in one folder", measure(folderWith(base, "all", HOSTILE))]);
    console.log(`node ${process.version}, ${new Date().toISOString()}`);
    console.log("| input | exit | wall (s) | peak RSS | what the report says |");
    console.log("|---|---|---|---|---|");
    for (const [name, m] of rows) console.log(`| ${name} | ${m.exit} | ${m.wall} | ${m.rss} | ${m.line.slice(0, 140).replace(/\|/g, "\\|")} |`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main();
