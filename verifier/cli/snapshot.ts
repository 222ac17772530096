// `npm run verify -- --ingress NS/NAME | --snapshot DIR` (called from verify.ts) and `npm run snapshot
// -- --out DIR`: verify, or save, an Ingress that is not (only) the program's stack. The cloud
// clients load only after the command line is checked. Exit codes as verify's: 0 every claim
// holds, 1 a claim failed, 2 could not verify (bad input, nothing to judge); snapshot: 0 saved, 2 not.
import { existsSync, readdirSync } from "node:fs";
import type { CliOptions } from "./options";
import { errorText, FlagError, jsonExitLine, parseArgs, PROGRESS_MARK, progressLine, usageErrorText, wrapMessage } from "./flags";
import { InputError, readStackOutputs, redactSecrets } from "../outputs";
import type { Progress } from "../sources/types";
import { parseIngressRef } from "../snapshot/ingress-ref";

/** Problems with verify's --ingress / --snapshot flags (verify.ts parseCli lists them with the others). */
export function ingressFlagProblems(values: Record<string, string | boolean | undefined>): string[] {
  const problems: string[] = [];
  const ingressMode = values.ingress !== undefined || values.snapshot !== undefined;
  if (typeof values.ingress === "string" && !parseIngressRef(values.ingress)) problems.push(`--ingress ${values.ingress}: give NAMESPACE/NAME, e.g. --ingress default/web`);
  if (ingressMode && (values.outputs !== undefined || values.stack !== undefined)) problems.push("--outputs/--stack: not with --ingress or --snapshot (those name the Ingress themselves)");
  if (!ingressMode) {
    for (const flag of ["service", "project", "location", "cluster", "no-ssh"]) if (values[flag] !== undefined) problems.push(`--${flag}: only with --ingress or --snapshot`);
  }
  if (values.snapshot !== undefined) {
    for (const flag of ["project", "location", "cluster"]) if (values[flag] !== undefined) problems.push(`--${flag}: not with --snapshot (the folder's objects say where they come from)`);
    if (values.requests !== undefined && values.requests !== "0") problems.push("--requests: a snapshot is judged with no network; no request can be sent");
  }
  const cluster = ["project", "location", "cluster"].filter((f) => values[f] !== undefined);
  if (values.ingress !== undefined && values.snapshot === undefined && cluster.length > 0 && cluster.length < 3 && !(cluster.length === 1 && cluster[0] === "project")) {
    problems.push("--project --location --cluster: give all three to name the cluster (or only --project, with the kubeconfig's context)");
  }
  return problems;
}

const NO_SSH_REASON = "verify --ingress opens no SSH session by itself (it would need a key the nodes accept and never adds one to project or instance metadata)";

/** A failure before any report: `<cli>: error: ...` on stderr (and the outcome object with --json), redacted. */
function printFailure(cli: "verify" | "snapshot", rawReason: string, json: boolean): number {
  const reason = redactSecrets(rawReason);
  process.stderr.write(errorText(cli, [reason]));
  if (json) process.stdout.write(`${JSON.stringify({ outcome: { exitCode: 2, reason } }, null, 2)}\n`);
  return 2;
}

/** `verify --ingress` / `verify --snapshot`: collect, judge and print the same report as verify. */
export async function runIngressVerify(opts: CliOptions, progress: Progress): Promise<number> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const run = require("../snapshot/run") as typeof import("../snapshot/run");
  const ingress = opts.ingress ? parseIngressRef(opts.ingress) : undefined;
  const base = { ingress, service: opts.service, timeoutMs: opts.timeoutMs, nodes: opts.nodes, concurrency: opts.concurrency };
  let outcome;
  try {
    if (opts.snapshot !== undefined) {
      outcome = await run.verifySnapshot(opts.snapshot, { ...base, requests: 0 }, progress);
    } else {
      const token = process.env.GOOGLE_OAUTH_ACCESS_TOKEN || (await (require("../sources/gcp") as typeof import("../sources/gcp")).googleAccessToken());
      const cluster = await run.liveCluster(opts, token);
      outcome = await run.verifyLiveIngress(cluster, { ...base, project: opts.project, location: opts.location, cluster: opts.cluster, requests: opts.requestsGiven ? opts.requests : 0, accessToken: token, noSsh: opts.noSsh ? "--no-ssh was given" : NO_SSH_REASON }, progress);
    }
  } catch (error) {
    const known = error instanceof run.IngressInputError || /could not get Google credentials/.test((error as Error).message);
    return printFailure("verify", `could not verify: ${redactSecrets(known ? (error as Error).message : ((error as Error).stack ?? String(error)))}`, opts.json);
  }
  const { renderTerminal } = require("../report/terminal") as typeof import("../report/terminal");
  const { renderJson } = require("../report/json") as typeof import("../report/json");
  const { renderMarkdown } = require("../report/markdown") as typeof import("../report/markdown");
  const { terminalWidth, wrap } = require("../report/layout") as typeof import("../report/layout");
  const { writeReportFile } = require("../report/file") as typeof import("../report/file");
  const writeFailed = opts.markdown ? writeReportFile("--markdown", opts.markdown, renderMarkdown(outcome.model, outcome.results, { diagnosis: outcome.diagnosis }), (l) => process.stderr.write(`${l}\n`)) : undefined;
  if (writeFailed) process.stderr.write(`${writeFailed}\n`);
  if (opts.json) {
    process.stdout.write(renderJson(outcome.model, outcome.results, { includeDumps: opts.includeDumps, diagnosis: outcome.diagnosis, outcome: { exitCode: outcome.exitCode, reason: outcome.reason } }));
    process.stderr.write(jsonExitLine(outcome.exitCode, redactSecrets(outcome.reason)));
  } else {
    const width = terminalWidth(process.stdout);
    process.stdout.write(renderTerminal(outcome.model, outcome.results, { color: opts.color, width, full: opts.full, diagnosis: outcome.diagnosis }));
    process.stdout.write(`\n${wrap(`exit ${outcome.exitCode}: ${redactSecrets(outcome.reason)}`, width, "", "  ").join("\n")}\n`);
  }
  return writeFailed ? 2 : outcome.exitCode;
}

// ---------------------------------------------------------------- npm run snapshot

export const SNAPSHOT_HELP = `usage: npm run snapshot -- --out DIR [options]

Saves everything verify reads into DIR, as the APIs returned it: the Ingress, its Services,
EndpointSlices, Pods, Nodes, the load balancer's Compute objects, backend health and instance-group
members, plus each node's outputs (nodes/<node>/) when the nodes can be read, and snapshot.json
(what was read, from where, when, what failed, what was withheld). Each object keeps only the
fields the verifier reads; never a Secret, a token, a kubeconfig, a key or instance metadata, and
any value that looks like a credential is replaced by a marker: safe to attach to a ticket.
The folder is owner-only (0700/0600) and appears only when complete (docs/snapshot.md).
Judge it later, anywhere, with no network: npm run verify -- --snapshot DIR

options:
  --out DIR           the folder to write (must not exist, or be empty)
  --ingress NS/NAME   save this Ingress on any GKE cluster (kubeconfig context, or --project
                      --location --cluster); without it: the program's stack (--outputs / --stack)
  --service NAME      the Service to follow when the Ingress routes to several
  --outputs FILE | --stack NAME
                      the stack's outputs (default: the selected stack)
  --project P --location L --cluster C
                      with --ingress: the cluster
  --transport T       stack only: SSH to the nodes with the stack's key via iap (default) or direct
  --no-ssh            save no node outputs
  --timeout SECONDS   per SSH session (default 20)
  -h, --help          this text

exit codes:
  0  saved (snapshot.json lists what failed)
  2  nothing saved (bad input, no access)
`;

export async function snapshotMain(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  const problems: string[] = [];
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: "string" }, ingress: { type: "string" }, service: { type: "string" }, outputs: { type: "string" }, stack: { type: "string" },
        project: { type: "string" }, location: { type: "string" }, cluster: { type: "string" }, transport: { type: "string" }, "no-ssh": { type: "boolean" },
        timeout: { type: "string" }, help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    // The values that could be read are checked too: every problem is reported at once.
    problems.push(...error.problems);
    values = error.parsed.values;
  }
  if (values.help && problems.length === 0) {
    process.stdout.write(SNAPSHOT_HELP);
    return 0;
  }
  const out = values.out as string | undefined;
  if (!out) {
    if (!problems.some((p) => p.startsWith("--out "))) problems.push("--out DIR: required (the folder to write)");
  } else if (existsSync(out) && readdirSync(out).length > 0) problems.push(`--out ${out}: exists and is not empty; give a new folder (a snapshot is one moment; mixing two would mislead)`);
  const ingress = typeof values.ingress === "string" ? parseIngressRef(values.ingress) : undefined;
  if (values.ingress !== undefined && !ingress) problems.push(`--ingress ${values.ingress}: give NAMESPACE/NAME`);
  if (values.ingress !== undefined && (values.outputs !== undefined || values.stack !== undefined)) problems.push("--outputs/--stack: not with --ingress");
  if (values.ingress !== undefined && values.transport !== undefined) problems.push("--transport: only for the stack (its SSH key); with --ingress no SSH session is opened");
  const transport = (values.transport as string | undefined) ?? "iap";
  if (transport !== "iap" && transport !== "direct") problems.push(`--transport ${transport}: must be iap or direct`);
  const timeout = values.timeout === undefined ? 20 : Number(values.timeout);
  if (!(Number.isInteger(timeout) && timeout >= 1 && timeout <= 600)) problems.push(`--timeout ${values.timeout}: must be a whole number 1..600`);
  if (problems.length > 0) {
    process.stderr.write(usageErrorText("snapshot", problems));
    return 2;
  }

  const progress: Progress = { hop: (name, state, detail) => state !== "start" && process.stderr.write(`${progressLine(PROGRESS_MARK[state], name, detail === undefined ? undefined : redactSecrets(detail))}\n`) };
  /* eslint-disable @typescript-eslint/no-require-imports */
  const run = require("../snapshot/run") as typeof import("../snapshot/run");
  const { SnapshotRecorder } = require("../snapshot/record") as typeof import("../snapshot/record");
  let secrets: object | undefined;
  let recorder: InstanceType<typeof SnapshotRecorder> | undefined;
  // Interrupted (Ctrl-C, a CI timeout): nothing half-written is left behind.
  const interrupted = (signal: NodeJS.Signals) => {
    recorder?.abort();
    process.stderr.write(`snapshot not saved: interrupted (${signal}); nothing was left in ${out}\n`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  // The reader of the progress lines went away (`2>&1 | head`): nothing half-written stays, and the
  // process ends quietly with SIGPIPE's status, as scripts/closed-pipe.js ends the other CLIs.
  const closedPipe = () => {
    recorder?.abort();
    process.exit(141);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  process.once("SIGPIPE", closedPipe);
  try {
    const token = process.env.GOOGLE_OAUTH_ACCESS_TOKEN || (await (require("../sources/gcp") as typeof import("../sources/gcp")).googleAccessToken());
    try {
      recorder = new SnapshotRecorder(out!);
    } catch (error) {
      throw new run.IngressInputError(`--out ${out}: cannot create the folder beside it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a path in a writable folder`);
    }
    recorder.meta.source = ingress ? "ingress" : "stack";
    if (ingress) {
      const cluster = await run.liveCluster({ project: values.project as string, location: values.location as string, cluster: values.cluster as string }, token);
      await run.verifyLiveIngress(cluster, { ingress, service: values.service as string | undefined, requests: 0, timeoutMs: timeout * 1000, accessToken: token, noSsh: values["no-ssh"] ? "--no-ssh was given" : NO_SSH_REASON, project: values.project as string | undefined }, progress, recorder);
    } else {
      const outputs = await readStackOutputs({ file: values.outputs as string | undefined, stack: values.stack as string | undefined });
      secrets = outputs;
      const k8s = require("../sources/k8s") as typeof import("../sources/k8s");
      const access = k8s.kubeAccessFromKubeconfig(outputs.kubeconfig, token);
      await run.verifyLiveIngress(
        { access, project: outputs.project, location: outputs.location, cluster: outputs.clusterName },
        {
          ingress: { namespace: outputs.namespace, name: outputs.ingressName },
          service: (values.service as string | undefined) ?? outputs.serviceName,
          requests: 0,
          timeoutMs: timeout * 1000,
          accessToken: token,
          ...(values["no-ssh"] ? { noSsh: "--no-ssh was given" } : { ssh: { user: outputs.sshUser, privateKey: outputs.sshPrivateKey, transport: transport as "iap" | "direct" } }),
        },
        progress,
        recorder,
      );
    }
    const saved = recorder.meta.reads.filter((r) => r.file).length;
    process.stderr.write(`${wrapMessage(`snapshot: ${saved} answers and ${recorder.meta.nodes.filter((n) => n.files.length > 0).length} nodes' outputs saved in ${out}; ${recorder.meta.failed.length} reads failed (listed in ${out}/snapshot.json)`)}\n`);
    process.stderr.write(`${wrapMessage(`snapshot: judge it with: npm run verify -- --snapshot ${out}`)}\n`);
    return 0;
  } catch (error) {
    recorder?.abort();
    const message = error instanceof InputError || error instanceof run.IngressInputError || /could not get Google credentials/.test((error as Error).message) ? (error as Error).message : ((error as Error).stack ?? String(error));
    return printFailure("snapshot", `snapshot not saved: ${redactSecrets(message, secrets)}`, false);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    process.off("SIGPIPE", closedPipe);
  }
}

if (require.main === module) {
  snapshotMain(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
