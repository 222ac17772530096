// The lab CLI's arguments: parsed in one place, every mistake reported at once.
import { MAX_REQUESTS } from "../verifier/requests";
import { fanOutHelp, parseConcurrencyFlag, parseNodesOption, parseRequestsFlag } from "../verifier/cli/options";
import type { NodesFlag } from "../verifier/sources/node-selection";
import { MAX_CONCURRENCY } from "../verifier/sources/types";
import { LAB_BACKEND_MODES, type LabBackendMode } from "./neg";
import { DEFAULT_LAB_NODES, MAX_LAB_NODES, MIN_LAB_NODES, nodeCountProblem } from "./topology";

export const USAGE = `usage: npm run lab -- <command> [options]

Builds the article's path (or, with --backend neg, today's default) in network namespaces on
this machine (a client, an LB, 3 nodes or --nodes N with sshd and kube-proxy-style rules,
2 pods) and checks it as verify checks GKE. Root, Linux.

commands:
  up                  build the lab (idempotent)
  verify              run the checks C1..C12 on the lab (requests come from the client namespace)
  break --list | <fault>
                      list the faults the lab reproduces, or apply one to the running lab
  repair              put the lab back as up made it (also after breaking it by hand)
  down                remove every namespace, link, process and rule of the lab, then check
  status              what is running and the LB's view of node health

options:
  --backend MODE      up: instance-group (default, the article's path: the LB sends to n-ip:n-port)
                      or neg (the container-native path: the LB sends to the pods' NEG endpoints
                      p-ip:p-port, routed via each pod's node; docs/lab-neg.md)
  --nodes N           up: how many nodes, ${MIN_LAB_NODES}..${MAX_LAB_NODES} (default ${DEFAULT_LAB_NODES}); the 2 pods stay on node-1 and
                      node-3, the other nodes run none and forward (instance-group backend only)
${fanOutHelp(["lab"], "verify: ")}
  --keep-alive        up: the LB reuses its node connections; verify: for this run the client
                      sends over one connection and the LB reuses its node connections
  --json              verify: print one JSON object instead of the report
  --markdown FILE     verify: also write a Markdown report with a Mermaid diagram of the path
  --requests N        verify: requests from the client namespace, 1..${MAX_REQUESTS} (default 100)
  --no-color          verify: no colours
  --full              verify: the evidence quotes whole rules (default: their gist)
  --list              break: list the faults
  -h, --help          this text

environment:
  LAB_PREFIX          the namespaces' prefix (default gip-lab-)
  LAB_NET             the lab's /16 as its first two octets (default 10.213: 10.213.0.0/16)
  LAB_HEALTH_CHECK_MS up: how often the LB checks each backend, in ms (default 1000)

exit codes:
  0  done (verify: every claim holds)
  1  verify: a claim failed; down: something is left; break: the LB did not show the fault in
     time; status: no lab is up or its LB does not answer
  2  bad usage, or the command could not run (verify: could not verify)`;

const COMMANDS = ["up", "verify", "down", "status", "break", "repair"] as const;

/** Which command takes which option; an option given to another command is a mistake, not ignored. */
const OPTION_COMMANDS: Record<string, readonly string[]> = {
  "--json": ["verify"],
  "--markdown": ["verify"],
  "--requests": ["verify"],
  "--no-color": ["verify"],
  "--full": ["verify"],
  "--keep-alive": ["up", "verify"],
  "--backend": ["up"],
  "--nodes": ["up", "verify"],
  "--concurrency": ["verify"],
  "--list": ["break"],
};

export interface Args {
  command?: string;
  help: boolean;
  json: boolean;
  markdown?: string;
  requests: number;
  keepAlive: boolean;
  noColor: boolean;
  /** lab break: --list */
  list: boolean;
  /** lab break: the fault id */
  fault?: string;
  full: boolean;
  /** lab up: which path to build (undefined: instance-group) */
  backend?: LabBackendMode;
  /** lab up: how many nodes (undefined: DEFAULT_LAB_NODES) */
  nodes?: number;
  /** lab verify: which of the lab's nodes to read, as verify --nodes (undefined: all) */
  selection?: NodesFlag;
  /** lab verify: nodes read over SSH at the same time (undefined: the lab transport's default) */
  concurrency?: number;
  errors: string[];
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { help: false, json: false, requests: 100, keepAlive: false, noColor: false, list: false, full: false, errors: [] };
  const given: string[] = [];
  // --nodes means a count for up and a choice for verify: read once the command is known.
  let nodesText: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    // "--requests=20" is read like "--requests 20", as the other CLIs of the project accept both.
    const eq = argv[i].startsWith("--") ? argv[i].indexOf("=") : -1;
    const a = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    const inline = eq > 0 ? argv[i].slice(eq + 1) : undefined;
    if (a in OPTION_COMMANDS) given.push(a);
    if (inline !== undefined && ["--help", "--json", "--keep-alive", "--no-color", "--list", "--full"].includes(a)) {
      args.errors.push(`${a} takes no value, got "${argv[i]}"`);
      continue;
    }
    if (a === "--help" || a === "-h") args.help = true;
    else if (a === "--json") args.json = true;
    else if (a === "--keep-alive") args.keepAlive = true;
    else if (a === "--no-color") args.noColor = true;
    else if (a === "--list") args.list = true;
    else if (a === "--full") args.full = true;
    else if (a === "--markdown") {
      const file = inline ?? argv[i + 1];
      if (!file || file.startsWith("-")) args.errors.push("--markdown needs a file name, e.g. --markdown lab-report.md");
      else {
        args.markdown = file;
        if (inline === undefined) i++;
      }
    } else if (a === "--backend") {
      const text = inline ?? (argv[i + 1]?.startsWith("-") ? undefined : argv[++i]);
      if (!text) args.errors.push(`--backend needs a value: ${LAB_BACKEND_MODES.join(" or ")}`);
      else if (!(LAB_BACKEND_MODES as readonly string[]).includes(text)) args.errors.push(`--backend must be ${LAB_BACKEND_MODES.join(" or ")}, got "${text}"`);
      else args.backend = text as LabBackendMode;
    } else if (a === "--nodes") {
      nodesText = inline ?? (argv[i + 1]?.startsWith("--") ? undefined : argv[++i]) ?? "";
    } else if (a === "--concurrency") {
      const text = inline ?? (argv[i + 1]?.startsWith("--") ? undefined : argv[++i]);
      const n = text ? parseConcurrencyFlag(text) : `--concurrency needs a value: a whole number 1..${MAX_CONCURRENCY}`;
      if (typeof n === "string") args.errors.push(n);
      else args.concurrency = n;
    } else if (a === "--requests") {
      // The next argument is the value unless it is another option: "--requests --json" lacks one.
      const text = inline ?? (argv[i + 1]?.startsWith("--") ? undefined : argv[++i]);
      // At least 1, unlike verify's 0: lab verify exists to show the path carrying traffic (C12 and the
      // per-node comparison of the LB's connections with the nat counters need requests), and the
      // lab's LB is a local stand-in, so there is no production LB to spare.
      const n = parseRequestsFlag(text, 1);
      if (typeof n === "string") args.errors.push(n);
      else args.requests = n;
    } else if (a.startsWith("-")) args.errors.push(`unknown option ${a}`);
    else if (!args.command) args.command = a;
    else if (args.command === "break" && args.fault === undefined) args.fault = a;
    else args.errors.push(`unexpected argument "${a}"`);
  }
  if (args.help) return args;
  if (nodesText !== undefined) readNodes(args, nodesText);
  if (!args.command) args.errors.push("give a command: up, verify, status, break, repair or down");
  else if (!(COMMANDS as readonly string[]).includes(args.command)) args.errors.push(`unknown command "${args.command}"`);
  else {
    if (args.command === "break" && args.list === (args.fault !== undefined)) {
      args.errors.push(args.list ? "lab break takes --list or a fault, not both" : "lab break needs a fault (see lab break --list)");
    }
    // The NEG lab names one zone per node (lab/neg.ts) and is built for the article's three.
    if (args.backend === "neg" && args.nodes !== undefined && args.nodes !== DEFAULT_LAB_NODES) {
      args.errors.push(`--nodes ${args.nodes} works with --backend instance-group only: the NEG lab is built with ${DEFAULT_LAB_NODES} nodes`);
    }
    for (const option of new Set(given)) {
      const takers = OPTION_COMMANDS[option];
      if (!takers.includes(args.command)) args.errors.push(`${option} is an option of ${takers.map((c) => `lab ${c}`).join(" and ")}, not of lab ${args.command}`);
    }
  }
  return args;
}

/** --nodes for the command given: up builds that many nodes; verify reads those of the lab's nodes. */
function readNodes(args: Args, text: string): void {
  if (args.command === "verify") {
    const selection = text ? parseNodesOption(text) : '--nodes needs a value: all, a number, or node names separated by commas (e.g. --nodes node-1,node-2)';
    if (typeof selection === "string") args.errors.push(selection);
    else if (selection) args.selection = selection;
    return;
  }
  // up, and any other command (which is told below that --nodes is not its option)
  if (!text) args.errors.push(`--nodes needs a value: a whole number ${MIN_LAB_NODES}..${MAX_LAB_NODES}`);
  else if (args.command === "up" || args.command === undefined) {
    const problem = nodeCountProblem(text);
    if (problem) args.errors.push(problem);
    else args.nodes = Number(text);
  }
}
