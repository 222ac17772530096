// `npm run sweep -- [--project P] [--uid UID] [--json]`: after `pulumi destroy`, lists what the
// GKE ingress controller left in the project and prints the gcloud commands that remove it.
// Exit codes: 0 nothing left, 1 leftovers found, 2 could not check (bad arguments, no project,
// no credentials, or a list call failed and nothing was found).
import { redactText } from "../redact";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { RetryPolicy } from "../sources/gcp";
import { silentProgress, type Progress } from "../sources/types";
import { errorText, PROGRESS_MARK, progressLine, usageErrorText } from "./flags";

const usage = `usage: npm run sweep -- [--project PROJECT] [--uid UID [--provider-uid UID]] [--json]

Lists every resource the GKE ingress controller created and left behind in the project (forwarding
rules, target HTTP(S) proxies, URL maps, backend services, health checks, instance groups in all
zones, NEGs, firewall rules), and prints the gcloud delete commands in dependency order.

options:
  --project PROJECT   Google Cloud project (default: \`pulumi stack output project\`, then
                      \`gcloud config get-value project\`)
  --uid UID           the cluster's ingress uid (kubectl -n kube-system get configmap ingress-uid
                      -o jsonpath='{.data.uid}'; read it before destroying the cluster) or the
                      8-char hash in its k8s2-* names. Without it, every resource named like the
                      controller's is listed and flagged "possibly another cluster's".
  --provider-uid UID  the same ConfigMap's provider-uid (-o jsonpath='{.data.provider-uid}'): the
                      controller names its firewall rule k8s-fw-l7--<provider-uid>, which can
                      differ from the uid. Without it, with --uid, an L7 firewall rule not named
                      after the uid is listed as "owner unknown", not taken for another cluster's.
  --json              one JSON object on stdout
  -h, --help          this text

credentials:
  Application Default Credentials (gcloud auth application-default login).

exit codes:
  0  nothing left
  1  leftovers found
  2  could not check (bad arguments, no project, no credentials, or a list call failed)
`;

export interface SweepArgs {
  project?: string;
  uid?: string;
  providerUid?: string;
  json: boolean;
  help: boolean;
}

/** Parses argv; returns every bad argument (one message a line) instead of throwing. */
export function parseSweepArgs(argv: string[]): SweepArgs | string {
  const args: SweepArgs = { json: false, help: false };
  const problems: string[] = [];
  const queue = [...argv];
  while (queue.length > 0) {
    const arg = queue.shift()!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    // A value is the next argument unless that is itself a flag (then the flag is read on its own).
    const value = (): string | undefined => inline ?? (queue[0]?.startsWith("--") ? undefined : queue.shift());
    switch (flag) {
      case "--json":
      case "--help":
      case "-h":
        if (inline !== undefined) problems.push(`${flag} takes no value, got "${arg}"`);
        else if (flag === "--json") args.json = true;
        else args.help = true;
        break;
      case "--project": {
        const v = value();
        if (!v) problems.push("--project needs a value, e.g. --project my-project-123");
        else if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(v) && !/^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(v)) {
          problems.push(`--project "${v}" is not a Google Cloud project ID (6-30 characters: lowercase letters, digits, hyphens)`);
        } else args.project = v;
        break;
      }
      case "--uid": {
        const v = value();
        if (!v) problems.push("--uid needs a value: the cluster's ingress uid (kube-system/ingress-uid) or the 8-char hash of its k8s2-* names");
        else if (!/^[0-9a-z]{5,32}$/.test(v)) problems.push(`--uid "${v}" is not an ingress uid (lowercase letters and digits, e.g. 5d2c8f3a91b04e76)`);
        else args.uid = v;
        break;
      }
      case "--provider-uid": {
        const v = value();
        if (!v) problems.push("--provider-uid needs a value: the ingress-uid ConfigMap's provider-uid (kubectl -n kube-system get configmap ingress-uid -o jsonpath='{.data.provider-uid}')");
        else if (!/^[0-9a-z]{5,32}$/.test(v)) problems.push(`--provider-uid "${v}" is not an ingress uid (lowercase letters and digits, e.g. 5d2c8f3a91b04e76)`);
        else args.providerUid = v;
        break;
      }
      default:
        problems.push(arg.startsWith("-") ? `unknown option ${flag}` : `unexpected argument "${arg}": this command takes options only`);
    }
  }
  if (args.providerUid && !args.uid) problems.push("--provider-uid only narrows --uid: give --uid too (the ingress-uid ConfigMap's uid)");
  return problems.length > 0 ? problems.join("\n") : args;
}

const run = promisify(execFile);

/** The project from the stack outputs, else from gcloud's configuration. */
export async function defaultProject(): Promise<string | undefined> {
  const tries: [string, string[]][] = [
    ["pulumi", ["stack", "output", "project"]],
    ["gcloud", ["config", "get-value", "project"]],
  ];
  for (const [command, args] of tries) {
    try {
      const { stdout } = await run(command, args, { timeout: 30_000 });
      const project = stdout.trim();
      if (project && !project.includes(" ") && project !== "(unset)") return project;
    } catch {
      // not installed, no stack selected, or no value: try the next source
    }
  }
  return undefined;
}

export interface SweepCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** for tests: a Compute stand-in and its token */
  rootUrl?: string;
  accessToken?: string;
  retry?: RetryPolicy;
  defaultProject?: () => Promise<string | undefined>;
}

export async function runSweepCli(argv: string[], io: SweepCliIo): Promise<0 | 1 | 2> {
  const args = parseSweepArgs(argv);
  if (typeof args === "string") {
    io.stderr(usageErrorText("sweep", args.split("\n")));
    return 2;
  }
  if (args.help) {
    io.stdout(usage);
    return 0;
  }
  const project = args.project ?? (await (io.defaultProject ?? defaultProject)());
  if (!project) {
    io.stderr(errorText("sweep", ["no project: pass --project PROJECT (neither `pulumi stack output project` nor `gcloud config get-value project` gave one)"]));
    return 2;
  }
  const progress: Progress = args.json
    ? silentProgress
    : { hop: (name, state, detail) => state !== "start" && io.stderr(`${progressLine(PROGRESS_MARK[state], name, detail)}\n`) };
  if (!args.json) io.stderr(`Listing GKE ingress resources in project ${project}...\n`);
  // Loaded here so that --help and bad arguments do not wait for the Google API client (about 0.5 s).
  const { renderSweepJson, renderSweepText, sweepExitCode, sweepProject } = require("../sweep") as typeof import("../sweep");
  const result = await sweepProject(project, { uid: args.uid, providerUid: args.providerUid, rootUrl: io.rootUrl, accessToken: io.accessToken, retry: io.retry, progress });
  io.stdout(args.json ? renderSweepJson(result) : renderSweepText(result));
  return sweepExitCode(result);
}

if (require.main === module) {
  // Everything the sweep prints passes the one redaction (an API error can echo a token).
  runSweepCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(redactText(t)),
    stderr: (t) => process.stderr.write(redactText(t)),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(redactText(errorText("sweep", [error instanceof Error ? error.message : String(error)])));
      process.exitCode = 2;
    },
  );
}
