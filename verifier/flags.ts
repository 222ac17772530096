// The command-line flags of the verifier's CLIs, with the project's own messages. It reads the same
// option table as node:util's parseArgs (a drop-in for the subset used here), but Node's errors are
// written for Node ("Option '--requests' argument is ambiguous. Did you forget ...? To specify an
// option argument starting with a dash use '--requests=-XYZ'.") and stop at the first problem. Here
// a value is the next argument unless that is itself a flag (`--requests -5` reads "-5", which the
// caller then refuses with its rule), and every problem is reported.

export interface FlagSpec {
  type: "string" | "boolean";
  /** one letter: `-h` */
  short?: string;
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
  constructor(readonly problems: string[]) {
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
    if (value === undefined || value === "") problems.push(`${given} needs a value`);
    else values[name] = value;
  }
  if (!config.allowPositionals) {
    for (const p of positionals) problems.push(`unexpected argument "${p}": this command takes options only`);
  }
  if (problems.length > 0) throw new FlagError(problems);
  return { values, positionals };
}
