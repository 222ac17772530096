// Renders Mermaid diagrams with the real Mermaid (the `mermaid` package's browser bundle) in
// Debian's chromium, as GitHub would draw them, and reads each picture's natural size.
// One browser start for all diagrams: a generated page loads mermaid.min.js and the font Mermaid's
// default theme names from node_modules (file://), calls mermaid.render on each diagram in turn and writes every SVG or Mermaid's error
// message into the page; `chromium --headless --dump-dom` prints that page once the scripts are
// done, and the result is read back from the dump. No browser-automation package is involved.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = join(__dirname, "..", "..");
/** Debian's chromium (apt-get install chromium); .ci/run installs it. */
export const CHROMIUM = "/usr/bin/chromium";
/** Mermaid's self-contained browser bundle (UMD: defines the global `mermaid`). */
export const MERMAID_JS = join(ROOT, "node_modules", "mermaid", "dist", "mermaid.min.js");
/**
 * The font Mermaid's default theme asks for first ("Recursive Variable"; mermaid-cli loaded it
 * too). Mermaid sizes every box by measuring its text, so without it the pictures would be
 * measured in the arial fallback, about 8% wider than before.
 */
export const THEME_FONT_CSS = join(ROOT, "node_modules", "@fontsource-variable", "recursive", "index.css");
const THEME_FONT = "Recursive Variable";
/** The id of the element the page writes its results into (base64 of UTF-8 JSON). */
const RESULT_ID = "gip-mermaid-result";

export interface Rendered {
  /** the SVG text of each diagram, in the order given */
  svgs: string[];
  /** natural width and height in px (the SVG's viewBox), per diagram */
  sizes: { width: number; height: number }[];
}

/** What is missing to render, or undefined: the browser (Debian's chromium), Mermaid's bundle and its theme's font. */
export function rendererMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no browser at ${CHROMIUM}: install Debian's chromium and a font (apt-get install -y chromium fonts-liberation; .ci/run does)`;
  if (!existsSync(MERMAID_JS)) return `no ${MERMAID_JS}: run npm ci (mermaid is a devDependency)`;
  if (!existsSync(THEME_FONT_CSS)) return `no ${THEME_FONT_CSS}: run npm ci (@fontsource-variable/recursive is a devDependency)`;
  return undefined;
}

/** Natural size of a rendered SVG, from its root viewBox. */
export function svgSize(svg: string): { width: number; height: number } {
  const box = /<svg[^>]*viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg);
  if (!box) throw new Error("the SVG has no viewBox");
  return { width: Number(box[3]), height: Number(box[4]) };
}

/** A value as a JavaScript literal for an inline script: JSON with "<" escaped, so no text can close the script. */
function js(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * The page that renders `diagrams`. Mermaid's configuration is the one mermaid-cli used: Mermaid's
 * own defaults untouched (securityLevel "strict"; the theme and look each diagram type defaults to,
 * which Mermaid 12 chooses per type: setting `theme` here would override them).
 */
function page(diagrams: string[]): string {
  const data = js(diagrams);
  return `<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="${pathToFileURL(THEME_FONT_CSS).href}">
</head><body>
<script src="${pathToFileURL(MERMAID_JS).href}"></script>
<script>
(async () => {
  const diagrams = ${data};
  const results = [];
  const font = await document.fonts.load(${js(`14px '${THEME_FONT}'`)}).catch(() => []);
  if (typeof mermaid === "undefined") {
    results.push({ fatal: ${js(`mermaid.min.js did not load (${MERMAID_JS})`)} });
  } else if (!font.length) {
    results.push({ fatal: ${js(`the font ${THEME_FONT} did not load (${THEME_FONT_CSS})`)} });
  } else {
    mermaid.initialize({ startOnLoad: false });
    for (let i = 0; i < diagrams.length; i++) {
      try {
        results.push({ svg: (await mermaid.render("gip-diagram-" + i, diagrams[i])).svg });
      } catch (e) {
        results.push({ error: String((e && e.message) || e) });
      }
    }
  }
  // base64, so the DOM dump's HTML escaping cannot alter the SVG text
  const bytes = new TextEncoder().encode(JSON.stringify(results));
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  const out = document.createElement("pre");
  out.id = "${RESULT_ID}";
  out.textContent = btoa(bin);
  document.body.appendChild(out);
})();
</script>
</body></html>
`;
}

/**
 * What chromium's stderr says went wrong: the page's console errors (a script that failed) when
 * there are any, else its last lines without the D-Bus complaints of a machine with no session bus.
 */
function browserErrors(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() && !/d-?bus/i.test(l));
  const consoleLines = lines.filter((l) => l.includes(":CONSOLE"));
  return (consoleLines.length ? consoleLines : lines).slice(-6).join("\n");
}

/**
 * Renders every diagram (Mermaid source without the fence) in one headless chromium run.
 * Returns the SVGs and their natural sizes in the order given. Throws when Mermaid rejects any
 * diagram (every rejected one is named, with Mermaid's own message), and when the browser fails
 * or its page does not finish (the page's console errors, or chromium's stderr, are in the message).
 */
export function renderDiagrams(diagrams: string[]): Rendered {
  const dir = mkdtempSync(join(tmpdir(), "gip-mermaid-"));
  try {
    const html = join(dir, "render.html");
    writeFileSync(html, page(diagrams));
    const r = spawnSync(
      CHROMIUM,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        // the page's console messages on stderr: a script error then names itself
        "--enable-logging=stderr",
        `--user-data-dir=${join(dir, "profile")}`,
        // Virtual time stands still while scripts run and jumps ahead while the page waits, so the
        // budget is spent only once rendering is over; the results element says it really is.
        "--virtual-time-budget=60000",
        "--dump-dom",
        pathToFileURL(html).href,
      ],
      { encoding: "utf8", timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
    );
    if (r.error || r.status !== 0) {
      throw new Error(`chromium failed (${r.error ? String(r.error) : `exit ${r.status ?? r.signal}`}): ${browserErrors(r.stderr ?? "")}`);
    }
    const found = new RegExp(`<pre id="${RESULT_ID}">([A-Za-z0-9+/=]*)</pre>`).exec(r.stdout);
    if (!found) throw new Error(`chromium printed the page without the results: its script failed or outlasted the virtual-time budget. ${browserErrors(r.stderr)}`);
    const results = JSON.parse(Buffer.from(found[1], "base64").toString("utf8")) as { svg?: string; error?: string; fatal?: string }[];
    if (results[0]?.fatal) throw new Error(`chromium could not render: ${results[0].fatal}`);
    if (results.length !== diagrams.length) throw new Error(`the page rendered ${results.length} pictures for ${diagrams.length} diagrams`);
    const rejected = results.flatMap((res, i) => (res.error !== undefined ? [`diagram ${i + 1} of ${diagrams.length}: ${res.error}`] : []));
    if (rejected.length) throw new Error(`mermaid rejected a diagram:\n${rejected.join("\n")}`);
    const svgs = results.map((res) => res.svg!);
    return { svgs, sizes: svgs.map(svgSize) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
