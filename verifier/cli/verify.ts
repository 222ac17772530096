// `npm run verify`: prove, with evidence from the live stack, how a request travels from the LB's
// public IP to a pod. Exit codes: 0 every claim holds, 1 a claim failed, 2 could not verify.
import { errorText, FlagError, jsonExitLine, parseArgs, PROGRESS_MARK, progressLine, usageErrorText } from "./flags";
import { fanOutHelp, parseConcurrencyFlag, parseNodesOption, parseRequestsFlag, requestsRange, unwritableFileProblem, type CliOptions } from "./options";
import type { Progress } from "../sources/types";
import { silentProgress } from "../sources/types";
import { InputError, readStackOutputs, redactSecrets } from "../outputs";
import { MAX_REQUESTS } from "../requests";
import { ingressFlagProblems, runIngressVerify } from "./snapshot";

export const HELP = `usage: npm run verify -- [options]

Reads the stack outputs, collects the path from the Google Cloud API, the Kubernetes API and every
node over SSH, sends requests to the load balancer, then checks the article's claims C1..C12.

options:
  --outputs FILE      stack outputs saved with \`pulumi stack output --json --show-secrets > FILE\`
                      (default: run that command in the current directory)
  --stack NAME        the Pulumi stack to read the outputs of (default: the selected stack; not
                      with --outputs)
  --requests N        requests to the load balancer's public IP, 0..${MAX_REQUESTS} (default 20; 0 skips C12)
  --keep-alive        send all requests over one keep-alive connection (default: a new
                      connection each)
  --transport T       how to reach the nodes over SSH: iap (default; \`gcloud compute ssh
                      --tunnel-through-iap\`, which the default sshSourceRanges allow) or direct
                      (their external IPs; add your address to sshSourceRanges first)
  --timeout SECONDS   per SSH session and per request (default 20, max 600)
${fanOutHelp(["direct", "iap"])}
  --trust-host-key-on-first-use
                      for a node whose host key is neither in its guest attributes nor on its
                      serial console: connect anyway, accept the key it offers and report its
                      fingerprint as NOT verified (compare it yourself). Off by default.
  --json              print one JSON object (no progress lines) instead of the table
  --include-dumps     with --json: keep the nodes' raw nat dumps in the model
  --markdown FILE     also write a Markdown report with a Mermaid diagram of the path
  --ingress NS/NAME   verify this Ingress on any GKE cluster instead of the stack: the cluster from
                      the kubeconfig's current context, or --project --location --cluster
  --service NAME      the Service whose path the claims judge, when the Ingress routes to several
  --snapshot DIR      judge a snapshot folder (\`npm run snapshot\`, or gcloud/kubectl output saved
                      by hand) with no network at all; --ingress picks the Ingress when it holds
                      several
  --project P --location L --cluster C
                      with --ingress: the cluster (else the kubeconfig context)
  --no-ssh            with --ingress: read no node (node claims cannot tell, saying why)
  --full              the evidence quotes whole rules and API URLs (default: their gist)
  --no-color          no colours (also when stdout is not a terminal or NO_COLOR is set)
  -h, --help          this text

credentials:
  Application Default Credentials (\`gcloud auth application-default login\`) for both the Compute
  API and the cluster, or an access token in GOOGLE_OAUTH_ACCESS_TOKEN. No kubectl auth plugin.

exit codes:
  0  every claim passed
  1  a claim failed (the report ends with each cause and its fix)
  2  could not verify (bad input, no access); the last line says why
`;

/** Parse argv; throws InputError listing every bad flag. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env, isTty = false): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  const problems: string[] = [];
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        outputs: { type: "string" },
        stack: { type: "string" },
        requests: { type: "string", valueHint: requestsRange(0) },
        "keep-alive": { type: "boolean" },
        transport: { type: "string" },
        timeout: { type: "string" },
        "trust-host-key-on-first-use": { type: "boolean" },
        json: { type: "boolean" },
        "include-dumps": { type: "boolean" },
        markdown: { type: "string" },
        "no-color": { type: "boolean" },
        full: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        ingress: { type: "string" },
        service: { type: "string" },
        snapshot: { type: "string" },
        project: { type: "string" },
        location: { type: "string" },
        cluster: { type: "string" },
        "no-ssh": { type: "boolean" },
        nodes: { type: "string" },
        concurrency: { type: "string" },
      },
    }));
  } catch (err) {
    if (!(err instanceof FlagError)) throw new InputError([(err as Error).message], "bad command line");
    // The values that could be read are checked too: every problem is reported at once.
    problems.push(...err.problems);
    values = err.parsed.values;
  }
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) problems.push(`--${name} ${text}: must be a whole number ${min}..${max}`);
    return n;
  };
  const requestsFlag = values.requests === undefined ? 20 : parseRequestsFlag(values.requests as string, 0);
  if (typeof requestsFlag === "string") problems.push(requestsFlag);
  const requests = typeof requestsFlag === "number" ? requestsFlag : 20;
  const timeout = int("timeout", values.timeout as string | undefined, 20, 1, 600);
  const concurrency = values.concurrency === undefined ? undefined : parseConcurrencyFlag(values.concurrency as string);
  if (typeof concurrency === "string") problems.push(concurrency);
  const nodes = parseNodesOption(values.nodes as string | undefined);
  if (typeof nodes === "string") problems.push(nodes);
  // The program opens SSH to the IAP range only by default, so IAP is the transport that works out of the box.
  const transport = (values.transport as string | undefined) ?? "iap";
  if (transport !== "direct" && transport !== "iap") problems.push(`--transport ${transport}: must be direct or iap`);
  if (values["include-dumps"] && !values.json) problems.push("--include-dumps: only with --json");
  if (values.stack !== undefined && values.outputs !== undefined) problems.push(`--stack ${values.stack}: not read when --outputs is given (the file holds one stack's outputs already); give one of them`);
  const markdownProblem = values.markdown === undefined ? undefined : unwritableFileProblem("--markdown", values.markdown as string);
  if (markdownProblem) problems.push(markdownProblem);
  problems.push(...ingressFlagProblems(values));
  if (problems.length > 0) throw new InputError(problems, "bad command line");
  return {
    ingress: values.ingress as string | undefined,
    service: values.service as string | undefined,
    snapshot: values.snapshot as string | undefined,
    project: values.project as string | undefined,
    location: values.location as string | undefined,
    cluster: values.cluster as string | undefined,
    noSsh: values["no-ssh"] === true,
    requestsGiven: values.requests !== undefined,
    ...(typeof nodes === "object" ? { nodes } : {}),
    ...(typeof concurrency === "number" ? { concurrency } : {}),
    outputs: values.outputs as string | undefined,
    stack: values.stack as string | undefined,
    requests,
    keepAlive: values["keep-alive"] === true,
    transport: transport as "direct" | "iap",
    timeoutMs: timeout * 1000,
    trustHostKeyOnFirstUse: values["trust-host-key-on-first-use"] === true,
    json: values.json === true,
    includeDumps: values["include-dumps"] === true,
    markdown: values.markdown as string | undefined,
    color: !values["no-color"] && isTty && env.NO_COLOR === undefined,
    full: values.full === true,
    help: values.help === true,
  };
}

/** Progress per hop on stderr, so stdout carries only the report. */
function terminalProgress(color: boolean): Progress {
  const mark = { ok: color ? "\x1b[32m✓\x1b[0m" : PROGRESS_MARK.ok, fail: color ? "\x1b[31m✗\x1b[0m" : PROGRESS_MARK.fail, skip: PROGRESS_MARK.skip } as const;
  return {
    hop(name, state, detail) {
      // Only outcomes: the sources report sub-hops (service, endpointslices, each node) as they finish.
      if (state !== "start") process.stderr.write(`${progressLine(mark[state], name, detail === undefined ? undefined : redactSecrets(detail))}\n`);
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCli(argv, process.env, process.stdout.isTTY === true);
  } catch (err) {
    const problems = err instanceof InputError ? err.problems : [(err as Error).message];
    process.stderr.write(usageErrorText("verify", problems));
    if (argv.includes("--json")) process.stdout.write(`${JSON.stringify({ outcome: { exitCode: 2, reason: `bad command line: ${problems.join("; ")}` } }, null, 2)}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const progress = opts.json ? silentProgress : terminalProgress(opts.color);
  if (opts.snapshot !== undefined || opts.ingress !== undefined) return runIngressVerify(opts, progress);
  let outputs;
  try {
    progress.hop("stack outputs", "start");
    outputs = await readStackOutputs({ file: opts.outputs, stack: opts.stack });
    progress.hop("stack outputs", "ok", `${outputs.project} / ${outputs.location} / ${outputs.clusterName}`);
  } catch (err) {
    progress.hop("stack outputs", "fail");
    const reason = `could not verify: ${redactSecrets((err as Error).message)}`;
    process.stderr.write(errorText("verify", [reason]));
    // --json promises one object on stdout, also when there is nothing to report but the reason
    if (opts.json) process.stdout.write(`${JSON.stringify({ outcome: { exitCode: 2, reason } }, null, 2)}\n`);
    return 2;
  }
  try {
    // Loaded here so that bad input is reported before the cloud clients load.
    const { verifyGke } = require("../verify") as typeof import("../verify");
    const { renderTerminal } = require("../report/terminal") as typeof import("../report/terminal");
    const { renderJson } = require("../report/json") as typeof import("../report/json");
    const { renderMarkdown } = require("../report/markdown") as typeof import("../report/markdown");
    const { terminalWidth, wrap } = require("../report/layout") as typeof import("../report/layout");
    const accessToken = process.env.GOOGLE_OAUTH_ACCESS_TOKEN || undefined;
    const outcome = await verifyGke(outputs, { requests: opts.requests, keepAlive: opts.keepAlive, transport: opts.transport, timeoutMs: opts.timeoutMs, trustHostKeyOnFirstUse: opts.trustHostKeyOnFirstUse, accessToken, nodes: opts.nodes, concurrency: opts.concurrency }, progress);
    const { writeReportFile } = require("../report/file") as typeof import("../report/file");
    const writeFailed = opts.markdown ? writeReportFile("--markdown", opts.markdown, renderMarkdown(outcome.model, outcome.results, { diagnosis: outcome.diagnosis }), (l) => process.stderr.write(`${l}\n`)) : undefined;
    if (writeFailed) process.stderr.write(`${writeFailed}\n`);
    if (opts.json) {
      process.stdout.write(renderJson(outcome.model, outcome.results, { includeDumps: opts.includeDumps, diagnosis: outcome.diagnosis, outcome: { exitCode: outcome.exitCode, reason: outcome.reason } }));
    } else {
      const width = terminalWidth(process.stdout);
      process.stdout.write(redactSecrets(renderTerminal(outcome.model, outcome.results, { color: opts.color, width, full: opts.full, diagnosis: outcome.diagnosis }), outputs));
      process.stdout.write(`\n${wrap(`exit ${outcome.exitCode}: ${redactSecrets(outcome.reason, outputs)}`, width, "", "  ").join("\n")}\n`);
    }
    // With --json the reason is inside the object; say it on stderr too, for whoever reads the log.
    if (opts.json) process.stderr.write(jsonExitLine(outcome.exitCode, redactSecrets(outcome.reason, outputs)));
    // The report asked for was not written: the run could not do all it was told.
    return writeFailed ? 2 : outcome.exitCode;
  } catch (err) {
    process.stderr.write(errorText("verify", [`could not verify: ${redactSecrets((err as Error).stack ?? String(err), outputs)}`]));
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
