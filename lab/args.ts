// The lab CLI's arguments: parsed in one place, every mistake reported at once.
import { MAX_REQUESTS } from "../verifier/requests";

export const USAGE = `usage: npm run lab -- <command> [options]
  up [--keep-alive]          build the lab (idempotent); --keep-alive: the LB reuses node connections
  verify [--json] [--markdown FILE] [--requests N] [--keep-alive] [--no-color]
                             run the checks C1..C12 on the lab (requests come from the client namespace)
  down                       remove every namespace, link, process and rule of the lab, then check
  status                     what is running and the LB's view of node health
environment: LAB_PREFIX (default gip-lab-), LAB_NET (default 10.213: the lab uses 10.213.0.0/16)`;

export interface Args {
  command?: string;
  json: boolean;
  markdown?: string;
  requests: number;
  keepAlive: boolean;
  noColor: boolean;
  errors: string[];
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, requests: 100, keepAlive: false, noColor: false, errors: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--keep-alive") args.keepAlive = true;
    else if (a === "--no-color") args.noColor = true;
    else if (a === "--markdown") {
      const file = argv[i + 1];
      if (!file || file.startsWith("-")) args.errors.push("--markdown needs a file name, e.g. --markdown lab-report.md");
      else args.markdown = argv[++i];
    } else if (a === "--requests") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > MAX_REQUESTS) args.errors.push(`--requests must be a whole number 1..${MAX_REQUESTS}, got "${argv[i] ?? ""}"`);
      else args.requests = n;
    } else if (a.startsWith("-")) args.errors.push(`unknown option ${a}`);
    else if (!args.command) args.command = a;
    else args.errors.push(`unexpected argument "${a}"`);
  }
  if (!args.command) args.errors.push("give a command: up, verify, down or status");
  else if (!["up", "verify", "down", "status"].includes(args.command)) args.errors.push(`unknown command "${args.command}"`);
  return args;
}
