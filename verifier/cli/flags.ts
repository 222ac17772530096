// The command-line flags of the verifier's CLIs, with the project's own messages. It reads the same
// option table as node:util's parseArgs (a drop-in for the subset used here), but Node's errors are
// written for Node ("Option '--requests' argument is ambiguous. Did you forget ...? To specify an
// option argument starting with a dash use '--requests=-XYZ'.") and stop at the first problem. Here
// a value is the next argument unless that is itself a flag (`--requests -5` reads "-5", which the
// caller then refuses with its rule), and every problem is reported.
import { wrap } from "../report/layout";

export interface FlagSpec {
  type: "string" | "boolean";
  /** one letter: `-h` */
  short?: string;
  /** what to give, said after "--name needs a value: " when the value is missing */
  valueHint?: string;
}

export interface FlagsConfig {
  args: string[];
  options: Record<string, FlagSpec>;
  /** accepted for node:util compatibility; problems are always reported */
  strict?: boolean;
  allowPositionals?: boolean;
}

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Every problem with the command line, one sentence each (no "see --help": the caller adds its hint). */
export class FlagError extends Error {
  constructor(
    readonly problems: string[],
    /** what could be read despite the problems, so a caller can check those values too and report all at once */
    readonly parsed: ParsedFlags = { values: {}, positionals: [] },
  ) {
    super(problems.join("\n"));
    this.name = "FlagError";
  }
}

/**
 * Parses `--name value`, `--name=value`, boolean `--name`, `-x` shorts and `--` (the rest are
 * positionals). Last one wins for a repeated flag. Throws FlagError listing every unknown flag, flag
 * without its value, value given to a boolean, and (without allowPositionals) stray argument.
 */
export function parseArgs(config: FlagsConfig): ParsedFlags {
  const values: ParsedFlags["values"] = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  const shorts = new Map<string, string>(Object.entries(config.options).flatMap(([name, spec]) => (spec.short ? [[`-${spec.short}`, name] as const] : [])));
  const isFlag = (arg: string | undefined) => arg !== undefined && (arg.startsWith("--") || shorts.has(arg));
  const args = config.args;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const given = eq > 0 ? arg.slice(0, eq) : arg;
    const name = given.startsWith("--") ? given.slice(2) : shorts.get(given);
    const spec = name === undefined ? undefined : config.options[name];
    if (name === undefined || spec === undefined) {
      problems.push(`unknown option ${given}`);
      continue;
    }
    if (spec.type === "boolean") {
      if (eq > 0) problems.push(`${given} takes no value, got "${arg}"`);
      else values[name] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : isFlag(args[i + 1]) ? undefined : args[++i];
    if (value === undefined || value === "") problems.push(`${given} needs a value${spec.valueHint ? `: ${spec.valueHint}` : ""}`);
    else values[name] = value;
  }
  if (!config.allowPositionals) {
    for (const p of positionals) problems.push(`unexpected argument "${p}": this command takes options only`);
  }
  if (problems.length > 0) throw new FlagError(problems, { values, positionals });
  return { values, positionals };
}

// ---------------------------------------------------------------- one style for every CLI
// Every CLI of the project (verify, snapshot, trace, sweep, lab, preflight) speaks the same way:
//   help:   "usage: npm run <cli> -- ..." first, then a blank-line-separated description, then
//           headed blocks ("options:", "exit codes:", ...), nothing wider than CLI_WIDTH;
//   errors: one "<cli>: error: <problem>" per problem, all of them, then one line pointing to
//           --help (never the whole usage again), wrapped to CLI_WIDTH.

/** Columns no line a CLI prints about itself (help, errors) exceeds. */
export const CLI_WIDTH = 100;

/**
 * What a report CLI run with --json (verify, snapshot's verify, lab verify) says on stderr when the
 * run did not pass: "exit N: reason" and a newline, for whoever reads the log; the object on stdout
 * carries the same outcome. Empty for exit 0. `reason` must be redacted already.
 */
export function jsonExitLine(exitCode: number, reason: string): string {
  return exitCode === 0 ? "" : `exit ${exitCode}: ${reason}\n`;
}

/** One message wrapped to CLI_WIDTH: the first line as given, the rest indented by two spaces. */
export function wrapMessage(text: string, width = CLI_WIDTH): string {
  return wrap(text, width, "", "  ").join("\n");
}

/**
 * `<cli>: error: <problem>` for each problem, each wrapped; ends with a newline. A problem of
 * several lines (a list under a heading) keeps them, each wrapped under its own indent.
 */
export function errorText(cli: string, problems: string[]): string {
  const lines = (p: string) =>
    p.split("\n").map((line, i) => {
      const text = i === 0 ? `${cli}: error: ${line}` : line;
      const indent = /^\s*/.exec(text)![0];
      return wrap(text.trimStart(), CLI_WIDTH, indent, `${indent}  `).join("\n");
    });
  return problems.map((p) => `${lines(p).join("\n")}\n`).join("");
}

/** The problems, then the one line that points to the help: what a CLI prints for a bad command line. */
export function usageErrorText(cli: string, problems: string[]): string {
  return `${errorText(cli, problems)}${cli}: see ${helpCommand(cli)}\n`;
}

/** How to ask a CLI for its help, as the reader types it ("npm run verify -- --help"). */
export function helpCommand(cli: string): string {
  return `npm run ${cli === "trace" ? "--silent trace" : cli} -- --help`;
}

/** The mark of a progress line: what happened at a hop. */
export const PROGRESS_MARK = { ok: "ok  ", fail: "FAIL", skip: "skip" } as const;

/**
 * One progress line as every CLI prints it ("  ok   name: detail"), wrapped to CLI_WIDTH under
 * the name. `mark` may carry colour codes (they take no column).
 */
export function progressLine(mark: string, name: string, detail?: string): string {
  return wrap(`${name}${detail ? `: ${detail}` : ""}`, CLI_WIDTH, `  ${mark} `, "         ").join("\n");
}
