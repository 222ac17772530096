// `npm run lab -- up | verify | status | break | repair | down` (root, Linux). See README "The local lab (free)".
import { USAGE, parseArgs, type Args } from "./args";
import { labDown } from "./down";
import { lbStatus } from "./lb-control";
import { labPaths, readState, runningTopology } from "./state";
import { labTopology, labUrl, type LabTopology } from "./topology";
import { LabError, labUp } from "./up";
import { faultList, findFault, labBreak, labRepair, unknownFaultMessage } from "./faults";
import { backendStates, backendStatusLines } from "./source";
import { negLayout } from "./neg";
import { unwritableFileProblem } from "../verifier/cli/options";
import { asRoot } from "../verifier/cli/as-root";
import { CLI_WIDTH, errorText, jsonExitLine, usageErrorText, wrapMessage } from "../verifier/cli/flags";
import { writeReportFile } from "../verifier/report/file";
import { plural, terminalWidth, wrap } from "../verifier/report/layout";

/**
 * Prints text on stdout (or stderr) with no line wider than CLI_WIDTH: a long line continues under
 * its label ("  you see:  ...", "      cause:    ...") or two spaces in.
 */
function say(text: string, stream: "out" | "err" = "out"): void {
  const lines = text.split("\n").flatMap((line) => {
    const label = /^(\s*[\w -]{1,20}:\s+)\S/.exec(line)?.[1];
    const indent = label && label.length <= 24 ? " ".repeat(label.length) : `${/^\s*/.exec(line)![0]}  `;
    const lead = /^\s*/.exec(line)![0];
    return wrap(line.slice(lead.length), CLI_WIDTH, lead, indent);
  });
  (stream === "out" ? process.stdout : process.stderr).write(`${lines.join("\n")}\n`);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const markdownProblem = args.markdown === undefined ? undefined : unwritableFileProblem("--markdown", args.markdown);
  if (markdownProblem) args.errors.push(markdownProblem);
  if (args.command === "break" && args.fault !== undefined && !findFault(args.fault)) {
    args.errors.push(unknownFaultMessage(args.fault));
  }
  if (args.errors.length > 0) {
    process.stderr.write(usageErrorText("lab", args.errors));
    return 2;
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    process.stderr.write(errorText("lab", [`lab ${args.command} needs root (network namespaces, veth links, iptables): run it as root, or ${asRoot(`npm run lab -- ${args.command}`)} (plain sudo drops the Node on your PATH and LAB_PREFIX / LAB_NET)`]));
    return 2;
  }
  let t: LabTopology;
  try {
    // up builds what --nodes says; every other command works on the lab that is up, as many nodes as it has.
    t = args.command === "up" ? labTopology({ nodes: args.nodes }) : runningTopology(labTopology());
  } catch (error) {
    process.stderr.write(errorText("lab", [`${(error as Error).message} (from LAB_PREFIX / LAB_NET / LAB_HEALTH_CHECK_MS)`]));
    return 2;
  }
  if (args.command === "break" && args.list) {
    const state = readState(t);
    say(faultList(t, state?.complete ? (state.backend ?? "instance-group") : undefined));
    return 0;
  }
  switch (args.command) {
    case "break":
      return breakLab(t, args.fault as string);
    case "repair":
      return repair(t);
    case "up":
      return up(t, args);
    case "down":
      return down(t);
    case "status":
      return status(t);
    default:
      return verify(t, args);
  }
}

async function up(t: LabTopology, args: Args): Promise<number> {
  const started = performance.now();
  say(`lab up: "${t.prefix}" in ${t.net}.0.0/16`);
  const result = await labUp(t, { keepAlive: args.keepAlive, backend: args.backend, log: (line) => say(line) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  say(result.built ? `lab is up in ${seconds} s` : `lab was already up (${seconds} s)`);
  say(`  client namespace: ${t.client.namespace}, try: ${asRoot(`ip netns exec ${t.client.namespace} curl -s ${labUrl(t)}`)}`);
  if (result.state.backend === "neg") {
    const layout = negLayout(t);
    say(`  load balancer:    ${labUrl(t)} -> NEG endpoints ${t.pods.map((p) => `${p.ip}:${t.service.podPort}`).join(", ")} (p-ip:p-port, routed via the pod's node)`);
    say(`  NEG:              ${layout.negName} in ${layout.negZones.join(", ")} (${t.nodes.map((n) => `${n.name} ${layout.zones[n.name]}`).join(", ")})`);
  } else say(`  load balancer:    ${labUrl(t)} -> ${listed(t.nodes.map((n) => `${n.internalIp}:${t.service.nodePort}`))}`);
  say(`  service:          ${t.service.clusterIP}:${t.service.port} (clusterIP, on no interface) -> pods :${t.service.podPort}`);
  for (const pod of t.pods) say(`  ${pod.name} on ${pod.nodeName}: ${pod.ip}`);
  say(`  nodes (ssh root@):  ${listed(t.nodes.map((n) => `${n.name} ${n.externalIp}`))}`);
  say(`next: ${asRoot("npm run lab -- verify")}`);
  return 0;
}

/** All items for a few nodes; the first two, "...", the last and how many for a big lab (`up --nodes 50`). */
function listed(items: string[]): string {
  return items.length <= 5 ? items.join(", ") : `${items.slice(0, 2).join(", ")}, ..., ${items[items.length - 1]} (${items.length})`;
}

async function down(t: LabTopology): Promise<number> {
  const report = await labDown(t);
  say(`lab down: "${t.prefix}"`);
  say(`  stopped ${plural(report.stoppedPids.length, "process", "processes")}, removed ${plural(report.removedNamespaces.length, "namespace")}, ${plural(report.removedLinks.length, "root link")}`);
  say(`  checked: ${report.checked.join("; ")}`);
  if (report.leftovers.length === 0) {
    say("  nothing left behind");
    return 0;
  }
  say(`  STILL THERE:\n${report.leftovers.map((l) => `    - ${l}`).join("\n")}`, "err");
  return 1;
}

async function status(t: LabTopology): Promise<number> {
  const state = readState(t);
  if (!state) {
    say(`no lab "${t.prefix}" is up (no state in ${t.stateDir})`);
    return 1;
  }
  say(`lab "${t.prefix}" (${state.backend ?? "instance-group"}): ${state.complete ? "complete" : "INCOMPLETE (run lab down, then lab up)"}, since ${state.createdAt}`);
  try {
    const lb = await lbStatus(labPaths(t).lbControlSocket);
    say(`  LB ${lb.listen} keep-alive=${lb.keepAlive}, ${lb.requestsReceived} requests so far`);
    for (const line of backendStatusLines(lb.backends)) say(line);
  } catch (error) {
    say(`  LB: ${(error as Error).message}`);
    return 1;
  }
  return 0;
}

async function breakLab(t: LabTopology, id: string): Promise<number> {
  const { fault, shown, status } = await labBreak(t, id);
  say(`lab break ${fault.id}: ${fault.cause}`);
  say(`  did:      ${fault.how(t)}`);
  say(`  you see:  ${fault.symptom}`);
  say(`  LB now:   ${status ? backendStates(status.backends) : "no status"}`);
  say(`next: npm run lab -- verify   (diagnosis: ${fault.reported}); undo: npm run lab -- repair`);
  if (!shown) {
    say("lab: the LB's health checks did not show the fault within 10 s; verify may not see it yet", "err");
    return 1;
  }
  return 0;
}

async function repair(t: LabTopology): Promise<number> {
  const result = await labRepair(t);
  say(`lab repair: "${t.prefix}"`);
  for (const a of result.actions) say(`  ${a}`);
  say(`  LB: ${result.status ? backendStates(result.status.backends) : "no status"}`);
  return 0;
}

async function verify(t: LabTopology, args: Args): Promise<number> {
  // Loaded here: the verifier's SSH client and checks are what `lab verify` needs and nothing else
  // does, so --help and the other commands start without them.
  const { labVerify } = require("./verify") as typeof import("./verify");
  let outcome: Awaited<ReturnType<typeof labVerify>>;
  try {
    outcome = await labVerify(t, {
      requests: args.requests,
      keepAlive: args.keepAlive,
      color: !args.json && !args.noColor && process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
      width: terminalWidth(process.stdout),
      full: args.full,
      nodes: args.selection,
      concurrency: args.concurrency,
      log: args.json ? undefined : (line) => console.error(line),
    });
  } catch (error) {
    // --json promises one object on stdout, as verify's does, also when there is only the reason
    // (the lab is not up); the error itself goes to stderr as for every other command.
    if (args.json && error instanceof LabError) process.stdout.write(`${JSON.stringify({ outcome: { exitCode: 2, reason: `could not verify: ${error.message}` } }, null, 2)}\n`);
    throw error;
  }
  const writeFailed = args.markdown ? writeReportFile("--markdown", args.markdown, outcome.markdown, (l) => console.error(l)) : undefined;
  if (writeFailed) console.error(writeFailed);
  // The report is wrapped to the terminal already, and JSON must stay as it is.
  console.log(args.json ? outcome.json : outcome.terminal);
  // With --json the reason is inside the object; said on stderr too, as verify --json does.
  if (args.json) process.stderr.write(jsonExitLine(outcome.exitCode, (require("../verifier/outputs") as typeof import("../verifier/outputs")).redactSecrets(outcome.reason)));
  return writeFailed ? 2 : outcome.exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(errorText("lab", [error instanceof LabError ? error.message : (error.stack ?? String(error))]));
    // Whatever a failed command left half-built, `lab down` finds by the lab's prefix and removes.
    if (!(error instanceof LabError) || process.argv.includes("up")) process.stderr.write(`${wrapMessage(`lab: to clean up: ${asRoot("npm run lab -- down")}`)}\n`);
    process.exit(2);
  },
);
