// What verify's two halves share: its options (verify.ts parses them; snapshot.ts runs --ingress and
// --snapshot with them), the check that a report file can be written (verify and lab verify), and
// the fan-out flags --nodes and --concurrency, which verify and lab verify read and describe alike.
// Its own module, so verify.ts and snapshot.ts import it and not each other both ways.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseNodesFlag, type NodesFlag } from "../sources/node-selection";
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, type SshOptions } from "../sources/types";
import { wrap } from "../report/layout";
import { CLI_WIDTH } from "./flags";
import { MAX_REQUESTS } from "../requests";

export interface CliOptions {
  outputs?: string;
  stack?: string;
  requests: number;
  keepAlive: boolean;
  transport: "direct" | "iap";
  timeoutMs: number;
  trustHostKeyOnFirstUse: boolean;
  json: boolean;
  includeDumps: boolean;
  markdown?: string;
  color: boolean;
  full: boolean;
  help: boolean;
  /** verify --ingress / --snapshot (verifier/cli/snapshot.ts) */
  ingress?: string;
  service?: string;
  snapshot?: string;
  project?: string;
  location?: string;
  cluster?: string;
  noSsh?: boolean;
  /** --nodes (sources/node-selection.ts) and --concurrency */
  nodes?: NodesFlag;
  concurrency?: number;
  /** --requests was given (--ingress sends none by default) */
  requestsGiven?: boolean;
}

/**
 * Why FILE (the value of FLAG) could not be written, or undefined. Checked before any work, so a
 * long run does not end in a write error after the report was made.
 */
export function unwritableFileProblem(flag: string, file: string): string | undefined {
  const path = resolve(file);
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing?.isDirectory()) return `${flag} ${file}: is a directory; give a file name, e.g. ${flag} report.md`;
  try {
    accessSync(existing ? path : dirname(path), constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" || code === "ENOTDIR" ? `no directory ${dirname(path)}` : existing ? `the file is not writable (${code})` : `${dirname(path)} is not writable (${code})`;
    return `${flag} ${file}: cannot write the report there: ${why}; give a path in an existing, writable directory`;
  }
}

// ---------------------------------------------------------------- --requests

/**
 * What --requests accepts, as both CLIs say it: "a whole number MIN..MAX_REQUESTS". `min` is the
 * caller's: verify takes 0 (skip C12, e.g. to spare a production LB), lab verify takes 1 and up.
 */
export function requestsRange(min: 0 | 1): string {
  return `a whole number ${min}..${MAX_REQUESTS}`;
}

/**
 * The --requests value (`text`: what followed the flag, undefined when nothing did) -> the number
 * of requests to send, or the error message in the shared flag style ("--requests 5000: must be a
 * whole number 0..1000", "--requests needs a value: a whole number 1..1000").
 */
export function parseRequestsFlag(text: string | undefined, min: 0 | 1): number | string {
  if (text === undefined || text === "") return `--requests needs a value: ${requestsRange(min)}`;
  const n = Number(text);
  return /^\d+$/.test(text) && n >= min && n <= MAX_REQUESTS ? n : `--requests ${text}: must be ${requestsRange(min)}`;
}

// ---------------------------------------------------------------- --nodes and --concurrency

/**
 * `--concurrency` text -> nodes read at the same time (1..MAX_CONCURRENCY), or the error message
 * saying what to give. The default when the flag is absent is the transport's (DEFAULT_CONCURRENCY).
 */
export function parseConcurrencyFlag(text: string): number | string {
  const n = Number(text);
  return /^\d+$/.test(text) && n >= 1 && n <= MAX_CONCURRENCY ? n : `--concurrency ${text}: must be a whole number 1..${MAX_CONCURRENCY}`;
}

/**
 * `--nodes` text -> the selection, where "all" (the default) is no selection at all; or the error
 * message (the rules: sources/node-selection.ts).
 */
export function parseNodesOption(text: string | undefined): NodesFlag | undefined | string {
  const nodes = parseNodesFlag(text);
  return typeof nodes === "object" && nodes.kind === "all" ? undefined : nodes;
}

/** One entry of a CLI's option list: the flag in a 20-column field, the text wrapped under itself. */
export function helpEntry(flag: string, text: string): string {
  return wrap(text, CLI_WIDTH, `  ${flag.padEnd(20)}`, " ".repeat(22)).join("\n");
}

/**
 * The --nodes WHICH and --concurrency N entries of a CLI's help, for the given transports' defaults
 * ("32 direct, 8 iap"); `command` prefixes each ("verify: ") where the CLI has several commands.
 */
export function fanOutHelp(transports: SshOptions["transport"][], command = ""): string {
  const defaults = transports.length === 1 ? `${DEFAULT_CONCURRENCY[transports[0]!]}` : transports.map((t) => `${DEFAULT_CONCURRENCY[t]} ${t}`).join(", ");
  const iap = transports.includes("iap") ? ": each IAP session is a gcloud process of its own" : "";
  return [
    helpEntry(
      "--nodes WHICH",
      `${command}the nodes to read: all (default); a number N, a sample that always holds the nodes with the Service's pods and one without, the same on every run; or node names separated by commas. The report says which were read.`,
    ),
    helpEntry("--concurrency N", `${command}nodes read over SSH at the same time, 1..${MAX_CONCURRENCY} (default ${defaults}${iap})`),
  ].join("\n");
}
