// Text layout for the terminal and Markdown reports: wrapping to the terminal's width with a
// hanging indent, and the gist of an iptables rule (which chain, what it matches, where it jumps),
// so a reader sees what a rule does without its comment and match-module boilerplate.

const ANSI = /\x1b\[[0-9;]*m/g;

/** Visible length: ANSI colour codes take no column. */
export const visibleLength = (text: string) => text.replace(ANSI, "").length;

/**
 * Wrap `text` to at most `width` visible columns: the first line starts with `first`, the others
 * with `rest` (a hanging indent). Breaks at spaces; a word longer than a line is cut where the line
 * ends, so no line is ever wider than `width` (which must leave room for the indent: at least
 * indent + 10, else 10 columns of text are used). `width` Infinity: one line.
 */
export function wrap(text: string, width: number, first = "", rest = first): string[] {
  const flat = text.replace(/[\r\n]+/g, " ");
  if (!Number.isFinite(width)) return [first + flat];
  const lines: string[] = [];
  let line = first;
  let room = Math.max(10, width - visibleLength(first));
  let used = 0;
  const push = () => {
    lines.push(line.replace(/\s+$/, ""));
    line = rest;
    room = Math.max(10, width - visibleLength(rest));
    used = 0;
  };
  // Split on single spaces so that a double space inside a line survives; an empty word is an
  // extra space, dropped at the start of a line.
  for (const word of flat.split(" ")) {
    let w = word;
    const len = visibleLength(w);
    if (len === 0 && used === 0) continue;
    if (used > 0 && used + 1 + len > room) push();
    // A word wider than a whole line (a long rule token, a URL): cut it, never overflow.
    while (visibleLength(w) > room) {
      if (used > 0) push();
      line += w.slice(0, room);
      w = w.slice(room);
      push();
    }
    if (w.length === 0 && word.length > 0) continue;
    line += (used > 0 ? " " : "") + w;
    used += (used > 0 ? 1 : 0) + visibleLength(w);
  }
  if (used > 0 || lines.length === 0) lines.push(line.replace(/\s+$/, ""));
  return lines;
}

/** Shell-like words of a saved rule: a quoted comment stays one word. */
function words(rule: string): string[] {
  return rule.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
}

/**
 * The gist of one `iptables-save` rule: "KUBE-NODEPORTS tcp dport 30080 -> KUBE-EXT-X", "KUBE-SEP-Y
 * tcp -> DNAT 10.0.1.2:8080", "KUBE-SVC-Z 50% -> KUBE-SEP-Y". Comments and match-module names
 * (`-m tcp`, `-m comment`, `-m statistic --mode random`) are dropped; negations are kept. A text
 * that is not an `-A CHAIN ...` rule is returned unchanged.
 */
export function ruleGist(rule: string): string {
  const w = words(rule.trim());
  if (w[0] !== "-A" || w.length < 2) return rule;
  const out: string[] = [w[1]];
  let target: string | undefined;
  const targetArgs: string[] = [];
  let not = false;
  for (let i = 2; i < w.length; i++) {
    const a = w[i];
    const next = w[i + 1];
    const neg = not ? "! " : "";
    not = false;
    switch (a) {
      case "!":
        not = true;
        break;
      case "-m":
      case "--mode":
      case "--comment":
        i++;
        break;
      case "-p":
        out.push(neg + next);
        i++;
        break;
      case "-d":
        out.push(`${neg}dst ${next.replace(/\/32$/, "")}`);
        i++;
        break;
      case "-s":
        out.push(`${neg}src ${next.replace(/\/32$/, "")}`);
        i++;
        break;
      case "--dport":
        out.push(`${neg}dport ${next}`);
        i++;
        break;
      case "--dst-type":
        out.push(`${neg}dst-type ${next}`);
        i++;
        break;
      case "-i":
      case "-o":
        out.push(`${neg}${a === "-i" ? "in" : "out"} ${next}`);
        i++;
        break;
      case "--probability":
        out.push(`${neg}${(Number(next) * 100).toFixed(1).replace(/\.0$/, "")}%`);
        i++;
        break;
      case "-j":
      case "-g":
        target = next;
        i++;
        break;
      case "--to-destination":
        targetArgs.push(next);
        i++;
        break;
      default:
        // Other matches and target options stay, shortened of their leading dashes.
        if (target === undefined) out.push(neg + a.replace(/^--?/, ""));
    }
  }
  return `${out.join(" ")}${target ? ` -> ${[target, ...targetArgs].join(" ")}` : ""}`;
}

/**
 * Every `line N: -A CHAIN ...` inside an evidence text replaced by `line N: <gist>`, and every
 * Compute API URL by its `kind/name`; the rest of the text is kept. Rules in evidence end at " — "
 * (the checks' separator), "; ", ", ", a ")" that closes the parenthesis the rule was quoted in
 * ("(as node-1 has it: -A FORWARD ... -j KUBE-FORWARD): what it does"), a " (" that opens a remark,
 * or the end. An unquoted rule token holds none of these (a multiport list's commas have no space
 * after them), so the text after the rule is never taken for part of it.
 */
export function gistRules(detail: string): string {
  // A Compute API URL says no more than its last two segments: "targetHttpProxies/NAME".
  const short = detail.replace(/https:\/\/(?:www|compute)\.googleapis\.com\/compute\/(?:v1|beta|alpha)\/projects\/[^\s,;/]+\/(?:global|(?:regions|zones)\/[^\s,;/]+)\/([A-Za-z]+\/[^\s,;/]+)/g, "$1");
  return short.replace(/-A [\w.-]+(?: (?:"(?:[^"\\]|\\.)*"|(?![—(])(?:[^\s";),]|,(?=\S))+))*/g, (rule) => ruleGist(rule));
}

export { plural } from "../checks/verdict";

/**
 * The width to wrap a report to, in columns: the terminal's own (`columns` of a TTY stream), else
 * `COLUMNS` from the environment (set by shells and `script`), else 100 for a file or a pipe.
 */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY && typeof stream.columns === "number" && stream.columns > 0) return stream.columns;
  const fromEnv = Number(env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 100;
}
