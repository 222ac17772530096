// The Markdown report's picture and README's own, rendered by the real Mermaid (the mermaid
// package's browser bundle in Debian's chromium, as CI installs them): Mermaid must accept every
// diagram the report can produce, and the pictures must stay readable on a GitHub page (drawn top-down; README's at most 1000 px).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runChecks } from "../../verifier/checks";
import { renderMermaid } from "../../verifier/report/mermaid";
import { renderDiagrams, rendererMissing } from "../support/mermaid-render";
import { gkeModel, NODE_PORT } from "./fixtures/gke-model";

// README's pictures and those of the pages under docs/ that it links to
const ROOT = join(__dirname, "..", "..");
const pages = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join("docs", f))];
const readmeDiagrams = pages.flatMap((page) =>
  [...readFileSync(join(ROOT, page), "utf8").matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]),
);

/** The report's picture in every shape the sources can leave it. */
function reportDiagrams(): Record<string, string> {
  const healthy = gkeModel({ counters: true });
  const neg = gkeModel();
  neg.kubernetes!.service!.annotations["cloud.google.com/neg"] = '{"ingress": true}';
  neg.kubernetes!.datapath = "dataplane-v2";
  const broken = gkeModel();
  const nat = broken.nodes[1].nat!;
  nat.text = nat.text.split("\n").filter((l) => !l.includes(`--dport ${NODE_PORT}`)).join("\n");
  // names Mermaid would parse, and a pod whose node is not known
  broken.kubernetes!.pods[0].name = 'we"ird<pod> #1 |x|';
  broken.kubernetes!.pods[0].nodeName = undefined;
  const empty = gkeModel();
  empty.loadBalancer = undefined;
  empty.kubernetes = undefined;
  empty.nodes = [];
  return Object.fromEntries(
    Object.entries({ healthy, neg, broken, empty }).map(([name, model]) => [name, renderMermaid(model, runChecks(model))]),
  );
}

const missing = rendererMissing();

test("the renderer is installed (Debian's chromium, the mermaid package and its theme's font)", () => {
  // Not skipped when missing: CI installs both (.ci/run), and a skipped render check proves nothing.
  expect(missing).toBeUndefined();
});

(missing ? describe.skip : describe)("rendered by the real Mermaid", () => {
  test("a diagram Mermaid rejects makes the render fail, with Mermaid's message", () => {
    expect(() => renderDiagrams(['flowchart TB\n  a["unclosed --> b'])).toThrow(/mermaid rejected a diagram[\s\S]*Parse error/);
  }, 120_000);

  test("every shape of the report's picture and README's diagrams render; readable widths", () => {
    const diagrams = reportDiagrams();
    const names = Object.keys(diagrams);
    // Last, a label that would close the page's inline script if the diagrams were not escaped
    // there, and text that only survives a UTF-8 round trip through the page and its dump.
    const hostile = 'flowchart TB\n  a["</script> x < y & é → z"] --> b';
    const rendered = renderDiagrams([...Object.values(diagrams), ...readmeDiagrams, hostile]);
    const { sizes, svgs } = { sizes: rendered.sizes.slice(0, -1), svgs: rendered.svgs.slice(0, -1) };
    expect(rendered.svgs.at(-1)).toContain("x &lt; y &amp; é → z");
    const report = Object.fromEntries(names.map((n, i) => [n, sizes[i]]));
    const readme = sizes.slice(names.length);
    expect(readme.length).toBeGreaterThanOrEqual(1);
    // README's own picture fits a GitHub page at full size
    readme.forEach((s) => expect(s.width).toBeLessThanOrEqual(1000));
    // The report's picture is drawn top-down: taller than wide, and narrow enough to read at
    // GitHub's page width even with GKE's 35-character node names (the article's three nodes).
    expect(report.healthy.height).toBeGreaterThan(report.healthy.width);
    expect(report.healthy.width).toBeLessThanOrEqual(1300);
    // the rendered text holds the values, not a Mermaid error picture
    expect(svgs[0]).toContain("KUBE-SEP-EDWA6B5VDIBQD5SP");
    expect(svgs[0]).not.toMatch(/Syntax error in text/);
  }, 180_000);
});
