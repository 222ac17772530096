// `npm run lab -- up | verify | status | break | repair | down` (root, Linux). See README "The local lab (free)".
import { USAGE, parseArgs, type Args } from "./args";
import { labDown } from "./down";
import { lbStatus } from "./lb-control";
import { labPaths, readState } from "./state";
import { labTopology, labUrl, type LabTopology } from "./topology";
import { LabError, labUp } from "./up";
import { faultList, labBreak, labRepair } from "./faults";
import { healthDetail } from "./source";
import { negLayout } from "./neg";
import { unwritableFileProblem } from "../verifier/cli";
import { asRoot } from "../verifier/as-root";
import { writeReportFile } from "../verifier/report/file";
import { plural, terminalWidth } from "../verifier/report/layout";

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const markdownProblem = args.markdown === undefined ? undefined : unwritableFileProblem("--markdown", args.markdown);
  if (markdownProblem) args.errors.push(markdownProblem);
  if (args.errors.length > 0) {
    console.error(`${args.errors.join("\n")}\n\n${USAGE}`);
    return 2;
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    console.error(`lab ${args.command} needs root (network namespaces, veth links, iptables): run it as root, or ${asRoot(`npm run lab -- ${args.command}`)} (plain sudo drops the Node on your PATH and LAB_PREFIX / LAB_NET)`);
    return 2;
  }
  let t: LabTopology;
  try {
    t = labTopology();
  } catch (error) {
    console.error(`${(error as Error).message} (from LAB_PREFIX / LAB_NET)`);
    return 2;
  }
  if (args.command === "break" && args.list) {
    const state = readState(t);
    console.log(faultList(t, state?.complete ? (state.backend ?? "instance-group") : undefined));
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
  console.log(`lab up: "${t.prefix}" in ${t.net}.0.0/16`);
  const result = await labUp(t, { keepAlive: args.keepAlive, backend: args.backend, log: (line) => console.log(line) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(result.built ? `lab is up in ${seconds} s` : `lab was already up (${seconds} s)`);
  console.log(`  client namespace: ${t.client.namespace}, try: ${asRoot(`ip netns exec ${t.client.namespace} curl -s ${labUrl(t)}`)}`);
  if (result.state.backend === "neg") {
    const layout = negLayout(t);
    console.log(`  load balancer:    ${labUrl(t)} -> NEG endpoints ${t.pods.map((p) => `${p.ip}:${t.service.podPort}`).join(", ")} (p-ip:p-port, routed via the pod's node)`);
    console.log(`  NEG:              ${layout.negName} in ${layout.negZones.join(", ")} (${t.nodes.map((n) => `${n.name} ${layout.zones[n.name]}`).join(", ")})`);
  } else console.log(`  load balancer:    ${labUrl(t)} -> ${t.nodes.map((n) => `${n.internalIp}:${t.service.nodePort}`).join(", ")}`);
  console.log(`  service:          ${t.service.clusterIP}:${t.service.port} (clusterIP, on no interface) -> pods :${t.service.podPort}`);
  for (const pod of t.pods) console.log(`  ${pod.name} on ${pod.nodeName}: ${pod.ip}`);
  console.log(`  nodes (ssh root@):  ${t.nodes.map((n) => `${n.name} ${n.externalIp}`).join(", ")}`);
  console.log(`next: ${asRoot("npm run lab -- verify")}`);
  return 0;
}

async function down(t: LabTopology): Promise<number> {
  const report = await labDown(t);
  console.log(`lab down: "${t.prefix}"`);
  console.log(`  stopped ${plural(report.stoppedPids.length, "process", "processes")}, removed ${plural(report.removedNamespaces.length, "namespace")}, ${plural(report.removedLinks.length, "root link")}`);
  console.log(`  checked: ${report.checked.join("; ")}`);
  if (report.leftovers.length === 0) {
    console.log("  nothing left behind");
    return 0;
  }
  console.error(`  STILL THERE:\n${report.leftovers.map((l) => `    - ${l}`).join("\n")}`);
  return 1;
}

async function status(t: LabTopology): Promise<number> {
  const state = readState(t);
  if (!state) {
    console.log(`no lab "${t.prefix}" is up (no state in ${t.stateDir})`);
    return 1;
  }
  console.log(`lab "${t.prefix}" (${state.backend ?? "instance-group"}): ${state.complete ? "complete" : "INCOMPLETE (run lab down, then lab up)"}, since ${state.createdAt}`);
  try {
    const lb = await lbStatus(labPaths(t).lbControlSocket);
    console.log(`  LB ${lb.listen} keep-alive=${lb.keepAlive}, ${lb.requestsReceived} requests so far`);
    for (const b of lb.backends) {
      console.log(
        `  ${b.instance ? `endpoint on ${b.instance} (${b.zone}${b.attached === false ? ", NEG detached" : ""})` : b.name} ${b.ip}:${b.port} ${b.state}${healthDetail(b) ? ` (${healthDetail(b)})` : ""}: ` +
          `${b.proxyConnections} proxy + ${b.healthCheckConnections} health-check connections`,
      );
    }
  } catch (error) {
    console.log(`  LB: ${(error as Error).message}`);
    return 1;
  }
  return 0;
}

async function breakLab(t: LabTopology, id: string): Promise<number> {
  const { fault, shown, status } = await labBreak(t, id);
  console.log(`lab break ${fault.id}: ${fault.cause}`);
  console.log(`  did:      ${fault.how(t)}`);
  console.log(`  you see:  ${fault.symptom}`);
  console.log(`  LB now:   ${status ? status.backends.map((b) => `${b.name} ${b.state}${healthDetail(b) ? ` (${healthDetail(b)})` : ""}`).join(", ") : "no status"}`);
  console.log(`next: npm run lab -- verify   (diagnosis: ${fault.reported}); undo: npm run lab -- repair`);
  if (!shown) {
    console.error("the LB's health checks did not show the fault within 10 s; verify may not see it yet");
    return 1;
  }
  return 0;
}

async function repair(t: LabTopology): Promise<number> {
  const result = await labRepair(t);
  console.log(`lab repair: "${t.prefix}"`);
  for (const a of result.actions) console.log(`  ${a}`);
  console.log(`  LB: ${result.status?.backends.map((b) => `${b.name} ${b.state}`).join(", ")}`);
  return 0;
}

async function verify(t: LabTopology, args: Args): Promise<number> {
  // Loaded here: the verifier's SSH client and checks are what `lab verify` needs and nothing else
  // does, so --help and the other commands start without them.
  const { labVerify } = require("./verify") as typeof import("./verify");
  const outcome = await labVerify(t, {
    requests: args.requests,
    keepAlive: args.keepAlive,
    color: !args.json && !args.noColor && process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
    width: terminalWidth(process.stdout),
    full: args.full,
    log: args.json ? undefined : (line) => console.error(line),
  });
  const writeFailed = args.markdown ? writeReportFile("--markdown", args.markdown, outcome.markdown, (l) => console.error(l)) : undefined;
  if (writeFailed) console.error(writeFailed);
  console.log(args.json ? outcome.json : outcome.terminal);
  return writeFailed ? 2 : outcome.exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error instanceof LabError ? error.message : (error.stack ?? String(error)));
    // Whatever a failed command left half-built, `lab down` finds by the lab's prefix and removes.
    if (!(error instanceof LabError) || process.argv.includes("up")) console.error(`to clean up: ${asRoot("npm run lab -- down")}`);
    process.exit(2);
  },
);
