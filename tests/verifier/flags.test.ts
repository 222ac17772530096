// Flag mistakes get the project's own messages in every CLI: never Node's parseArgs text ("Option
// '--requests' argument is ambiguous. Did you forget ...? ... use '--requests=-XYZ'."), every problem
// at once, and a value that starts with a dash is read as the value and judged by the flag's rule.
import { parseArgs as parseLabArgs } from "../../lab/args";
import { parseCli } from "../../verifier/cli/verify";
import { FlagError, parseArgs } from "../../verifier/cli/flags";
import { InputError } from "../../verifier/outputs";
import { parseSweepArgs } from "../../verifier/cli/sweep";
import { parseArgs as parseTraceArgs } from "../../verifier/cli/trace";

/** Node's own wording, which must not reach a user. */
const NODE_TEXT = /ambiguous|Did you forget|XYZ|ERR_PARSE_ARGS|Option '|Unknown option '|positional arguments/;

function verifyProblems(argv: string[]): string[] {
  try {
    parseCli(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).problems;
  }
  throw new Error(`parseCli(${JSON.stringify(argv)}) accepted it`);
}

describe("verify's flags", () => {
  test("--requests -5 reads -5 and refuses it with the flag's rule", () => {
    expect(verifyProblems(["--requests", "-5"])).toEqual(["--requests -5: must be a whole number 0..1000"]);
  });

  test.each([
    [["--requests"], ["--requests needs a value: a whole number 0..1000"]],
    [["--outputs", "--json"], ["--outputs needs a value"]],
    [["--bogus", "-x", "stray"], ["unknown option --bogus", "unknown option -x", 'unexpected argument "stray": this command takes options only']],
    [["--json=yes"], ['--json takes no value, got "--json=yes"']],
  ])("%j: %j", (argv, expected) => {
    const problems = verifyProblems(argv);
    expect(problems).toEqual(expected);
    for (const p of problems) expect(p).not.toMatch(NODE_TEXT);
  });

  test("values as node:util gives them: --name value, --name=value, -h, last one wins", () => {
    expect(parseCli(["--requests=7", "--timeout", "9", "--requests", "8", "-h"])).toMatchObject({ requests: 8, timeoutMs: 9000, help: true });
    expect(parseArgs({ args: ["--", "--json"], options: { json: { type: "boolean" } }, allowPositionals: true })).toEqual({ values: {}, positionals: ["--json"] });
    expect(() => parseArgs({ args: ["--x="], options: { x: { type: "string" } } })).toThrow(FlagError);
  });
});

describe("lab, trace and sweep say the same kind of thing", () => {
  test.each([
    [["verify", "--requests", "-5"], ["--requests -5: must be a whole number 1..1000"]],
    [["verify", "--requests"], ["--requests needs a value: a whole number 1..1000"]],
    [["verify", "--requests", "--json"], ["--requests needs a value: a whole number 1..1000"]],
  ])("lab %j", (argv, errors) => {
    const a = parseLabArgs(argv);
    expect(a.errors).toEqual(errors);
    for (const e of a.errors) expect(e).not.toMatch(NODE_TEXT);
  });

  test("trace --node-ip takes the next argument unless it is an option", () => {
    expect(parseTraceArgs(["d.txt", "--node-ip", "-5"]).problems).toEqual(['--node-ip needs an IP address, got "-5"']);
    const lacking = parseTraceArgs(["d.txt", "--node-ip", "--json"]);
    expect(lacking.problems).toEqual(["--node-ip needs an IP address, got nothing"]);
    expect(lacking.json).toBe(true);
  });

  test("sweep --project -5 is judged as a project ID", () => {
    expect(parseSweepArgs(["--project", "-5"])).toBe('--project "-5" is not a Google Cloud project ID (6-30 characters: lowercase letters, digits, hyphens)');
  });
});

describe("--requests: one wording in verify and lab verify (verifier/cli/options.ts owns it)", () => {
  // The same bad values through both parsers; only the lower bound may differ (lab verify needs >= 1).
  const range = (min: number) => `a whole number ${min}..1000`;
  test.each([["5000"], ["abc"], ["-5"], ["1e2"], ["2.5"]])("--requests %s", (value) => {
    expect(verifyProblems(["--requests", value])).toEqual([`--requests ${value}: must be ${range(0)}`]);
    expect(parseLabArgs(["verify", "--requests", value]).errors).toEqual([`--requests ${value}: must be ${range(1)}`]);
  });

  test("no value: both say what to give", () => {
    expect(verifyProblems(["--requests"])).toEqual([`--requests needs a value: ${range(0)}`]);
    expect(verifyProblems(["--requests", "--json"])).toEqual([`--requests needs a value: ${range(0)}`]);
    expect(parseLabArgs(["verify", "--requests"]).errors).toEqual([`--requests needs a value: ${range(1)}`]);
  });

  test("0 is verify's way to skip C12; lab verify refuses it with the same sentence shape", () => {
    expect(parseCli(["--requests", "0"]).requests).toBe(0);
    expect(parseLabArgs(["verify", "--requests", "0"]).errors).toEqual([`--requests 0: must be ${range(1)}`]);
    expect(parseCli(["--requests=1000"]).requests).toBe(1000);
    expect(parseLabArgs(["verify", "--requests=1000"]).requests).toBe(1000);
  });
});
