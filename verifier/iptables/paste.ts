// What people paste is rarely a bare dump: Markdown notes (fences, indented list items), shell
// prompts, "..." where they left rules out, "<-- remarks" after a rule. This pass reads such text
// into the dump it quotes, line for line (a skipped line becomes empty, so every later warning
// still names the line of the paste), and warns about every line it skipped or changed.
// A whole dump needs none of it: one scan finds nothing and the text is returned as it is.

/** A line that stands for left-out rules ("...", "....", "…", "[...]", "# ..."). Parsers see it as exactly "...". */
export const ELISION = "...";

export interface CleanedPaste {
  text: string;
  warnings: string[];
}

/**
 * Anything that needs this pass: indented dump lines, fences, prompts, elisions, trailing remarks.
 * Plain substring searches and patterns that start with a literal, because a 15 MB dump is scanned
 * whole: a multi-alternative `^...` pattern tried at every line start costs a tenth of the trace.
 */
function needsCleaning(text: string): boolean {
  return (
    text.includes("```") ||
    text.includes("~~~") ||
    text.includes("...") ||
    text.includes("…") ||
    text.includes("<-") ||
    text.includes("<=") ||
    text.includes("←") ||
    /\n[ \t]+(?:-[ANPS] |:[A-Z]|\*(?:nat|filter)|COMMIT|Chain |\[\d)/.test(text) ||
    /^[ \t]+(?:-[ANPS] |:[A-Z]|\*(?:nat|filter)|COMMIT|Chain |\[\d)/.test(text) ||
    /[$#][ \t]+(?:sudo[ \t]+)?(?:iptables|ip6tables|nft|grep|cat|kubectl|ssh|docker|crictl)/.test(text)
  );
}

const FENCE = /^\s*(?:```|~~~)/;
const PROMPT = /^\s*(?:\[[^\]]*\]|[\w.-]+@[\w.-]+(?::[^\s$#]*)?)?\s*[$#]\s+(?:sudo\s+)?(?:iptables|ip6tables|iptables-\w+|nft|grep|cat|kubectl|ssh|docker|crictl)\b/;
const ELIDED = /^\s*(?:\.{3,}|…+|\[\.{3,}\]|#\s*\.{3,})\s*$/;
const INDENTED_DUMP_LINE = /^[ \t]+(?=-[ANPS] |:[A-Z]|\*(?:nat|filter)|COMMIT|Chain |\[\d+:\d+\] -A )/;
/** a remark after a rule: "   <-- external traffic goes here", "<== kube-dns" */
const REMARK = /\s+(?:<--?|<==?|←)\s.*$/;

/** Never throws; returns the text unchanged (and no warning) when it is a plain dump. */
export function cleanPaste(text: string): CleanedPaste {
  if (!needsCleaning(text)) return { text, warnings: [] };
  const warnings: string[] = [];
  const lines = text.split("\n");
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const n = i + 1;
    if (FENCE.test(line)) {
      inFence = !inFence;
      warnings.push(`line ${n}: skipped: a Markdown fence (${clip(line.trim())})`);
      lines[i] = "";
      continue;
    }
    if (PROMPT.test(line)) {
      warnings.push(`line ${n}: skipped: a shell command, not its output (${clip(line.trim())})`);
      lines[i] = "";
      continue;
    }
    if (ELIDED.test(line)) {
      warnings.push(`line ${n}: skipped: "${line.trim()}" stands for left-out lines; the chains around it may hold more rules than shown`);
      lines[i] = ELISION;
      continue;
    }
    let out = line;
    const indent = INDENTED_DUMP_LINE.exec(out);
    if (indent) out = out.slice(indent[0].length);
    const remark = outsideQuotes(out, REMARK);
    if (remark !== undefined) {
      warnings.push(`line ${n}: ignored the remark after the rule: ${clip(out.slice(remark).trim())}`);
      out = out.slice(0, remark);
    }
    lines[i] = out;
  }
  return { text: lines.join("\n"), warnings };
}

/** Index where `re` matches outside double quotes (a comment may hold "<--"); undefined if not. */
function outsideQuotes(line: string, re: RegExp): number | undefined {
  const m = re.exec(line);
  if (!m) return undefined;
  let quotes = 0;
  for (let i = 0; i < m.index; i++) if (line.charCodeAt(i) === 34) quotes++;
  if (quotes % 2 === 0) return m.index;
  // inside a quoted comment: look again after the closing quote
  const close = line.indexOf('"', m.index);
  if (close < 0) return undefined;
  const rest = outsideQuotes(line.slice(close + 1), re);
  return rest === undefined ? undefined : close + 1 + rest;
}

function clip(s: string): string {
  return s.length > 120 ? s.slice(0, 117) + "..." : s;
}
