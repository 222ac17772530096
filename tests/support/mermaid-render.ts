// Renders Mermaid diagrams with the real Mermaid (@mermaid-js/mermaid-cli) in Debian's chromium, as
// GitHub would draw them, and reads each picture's natural size. One browser start for all
// diagrams: they go into one Markdown file, which mmdc renders block by block. mmdc exits non-zero
// when Mermaid rejects any diagram; that failure is returned with Mermaid's own message.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
export const PUPPETEER_CONFIG = join(__dirname, "puppeteer-chromium.json");
const MMDC = join(ROOT, "node_modules", "@mermaid-js", "mermaid-cli", "src", "cli.js");

export interface Rendered {
  /** the SVG text of each diagram, in the order given */
  svgs: string[];
  /** natural width and height in px (the SVG's viewBox), per diagram */
  sizes: { width: number; height: number }[];
}

/** What is missing to render, or undefined: the browser (Debian's chromium) and mermaid-cli. */
export function rendererMissing(): string | undefined {
  const { executablePath } = JSON.parse(readFileSync(PUPPETEER_CONFIG, "utf8")) as { executablePath: string };
  if (!existsSync(executablePath)) return `no browser at ${executablePath}: install Debian's chromium (apt-get install -y chromium; .ci/run does)`;
  if (!existsSync(MMDC)) return `no ${MMDC}: run npm ci (@mermaid-js/mermaid-cli is a devDependency)`;
  return undefined;
}

/** Natural size of a rendered SVG, from its root viewBox. */
export function svgSize(svg: string): { width: number; height: number } {
  const box = /<svg[^>]*viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!box) throw new Error("the SVG has no viewBox");
  return { width: Number(box[3]), height: Number(box[4]) };
}

/** Renders every diagram (Mermaid source without the fence); throws with Mermaid's message when one is rejected. */
export function renderDiagrams(diagrams: string[], opts: { png?: string } = {}): Rendered {
  const dir = mkdtempSync(join(tmpdir(), "gip-mermaid-"));
  try {
    const input = join(dir, "in.md");
    writeFileSync(input, diagrams.map((d) => "```mermaid\n" + d + "\n```\n").join("\n"));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [MMDC, "--puppeteerConfigFile", PUPPETEER_CONFIG, "--quiet", ...args], {
        cwd: dir,
        encoding: "utf8",
        timeout: 120_000,
        // Never fetch a browser of its own: the one named in the config is used.
        env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: "1" },
      });
    const r = run(["--input", input, "--output", join(dir, "out.md")]);
    if (r.status !== 0) throw new Error(`mermaid rejected a diagram (mmdc exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).split("\n").slice(0, 6).join("\n")}`);
    const files = readdirSync(dir).filter((f) => /^out-\d+\.svg$/.test(f)).sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
    if (files.length !== diagrams.length) throw new Error(`mmdc wrote ${files.length} pictures for ${diagrams.length} diagrams`);
    const svgs = files.map((f) => readFileSync(join(dir, f), "utf8"));
    if (opts.png && diagrams.length === 1) {
      writeFileSync(join(dir, "one.mmd"), diagrams[0]);
      const p = run(["--input", join(dir, "one.mmd"), "--output", opts.png, "--scale", "2"]);
      if (p.status !== 0) throw new Error(`mmdc could not write ${opts.png}: ${p.stderr}`);
    }
    return { svgs, sizes: svgs.map(svgSize) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
