// Every relative link and image in README.md and the pages under docs/ points at a file of the
// repository (a page moved into docs/ keeps links written from the root, which GitHub then shows
// broken), and every docs/ page is reachable from README's table or another page.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { ROOT } from "../support/cli";

const pages = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join("docs", f))];

/** [page, target as written, resolved path relative to the repository] of every relative Markdown link or image. */
function relativeLinks(page: string): [string, string, string][] {
  // code blocks hold commands and sample output, not links
  const text = readFileSync(join(ROOT, page), "utf8").replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  const out: [string, string, string][] = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1] as string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
    const file = target.replace(/#.*$/, "");
    out.push([page, target, relative(ROOT, normalize(join(ROOT, dirname(page), decodeURIComponent(file))))]);
  }
  return out;
}

test("every relative link and image of README and docs/ points at a file that exists", () => {
  const links = pages.flatMap(relativeLinks);
  expect(links.length).toBeGreaterThan(20);
  expect(links.filter(([, , path]) => !existsSync(join(ROOT, path))).map(([page, target]) => `${page}: ${target}`)).toEqual([]);
});

test("every page under docs/ is linked from README or another page", () => {
  const linked = new Set(pages.flatMap(relativeLinks).filter(([page, , path]) => page !== path).map(([, , path]) => path));
  expect(pages.filter((p) => p !== "README.md" && !linked.has(p))).toEqual([]);
});
