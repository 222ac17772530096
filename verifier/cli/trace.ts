// `npm run --silent trace -- <dump-file> [--json] [--node-ip IP]`: the offline trace of a saved
// ruleset. With --json, stdout carries exactly one JSON object (design.md "contract: offline trace").
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { ContractJsonWriter, prepareDump, streamPrepared, toContractJson, tracePrepared } from "../iptables/trace";
import type { TraceResult } from "../iptables/types";
import { errorText, usageErrorText } from "./flags";
import { reduceDump } from "../sources/node-reduce";

const USAGE = `usage: npm run --silent trace -- <dump-file | -> [--json] [--node-ip IP] [--service NS/NAME[:PORT]]

Reads a saved nat ruleset, whole or as pasted (Markdown notes, grep output, one chain at a
time, cut lines), and shows, for every service, where a new connection to clusterIP:port and
to nodeIP:nodePort goes, with each endpoint's share, and the share the dump does not show.

arguments:
  <dump-file>         output of one of:
                        iptables-save [-c] [-t nat]        (nft or legacy backend)
                        iptables -t nat -nvL   (or -nL, -L, --line-numbers, -x)
                        iptables -t nat -S [CHAIN]
                        nft list table ip kube-proxy  |  nft list ruleset
                      "-" reads the dump from stdin

options:
  --json              print one JSON object: { format, services: [...], warnings: [...] }
  --node-ip IP        the node address NodePort traffic is sent to (default: the first
                      address the rules name, else any local address); also --node-ip=IP
  --service NS/NAME[:PORT]
                      trace only this Service (its port named PORT, or all its ports): an
                      iptables-save dump is first cut down to that Service's rules, so a
                      10k-Service dump is traced in the time it takes to read it
  -h, --help          this text

exit codes:
  0  traced (warnings may be present)
  2  bad usage or unreadable dump`;

interface Args {
  file?: string;
  json: boolean;
  nodeIP?: string;
  /** --service: "ns/name" and, optionally, the port's name or number */
  service?: { namespace: string; name: string; port?: string };
  help: boolean;
  problems: string[];
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, help: false, problems: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") args.json = true;
    else if (a === "--help" || a === "-h") args.help = true;
    else if (a === "--node-ip" || a.startsWith("--node-ip=")) {
      // The next argument is the value unless it is another option ("--node-ip --json" lacks one).
      const v = a === "--node-ip" ? (argv[i + 1]?.startsWith("--") ? undefined : argv[++i]) : a.slice("--node-ip=".length);
      if (v === undefined || v === "" || isIP(v) === 0) args.problems.push(`--node-ip needs an IP address, got ${v === undefined || v === "" ? "nothing" : `"${v}"`}`);
      else args.nodeIP = v;
    } else if (a === "--service" || a.startsWith("--service=")) {
      const v = a === "--service" ? (argv[i + 1]?.startsWith("--") ? undefined : argv[++i]) : a.slice("--service=".length);
      const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::([A-Za-z0-9-]+))?$/.exec(v ?? "");
      if (!m) args.problems.push(`--service needs NAMESPACE/NAME or NAMESPACE/NAME:PORT (e.g. default/hello:http), got ${v ? `"${v}"` : "nothing"}`);
      else args.service = { namespace: m[1] as string, name: m[3] as string, ...(m[5] ? { port: m[5] } : {}) };
    } else if (a.startsWith("-") && a !== "-") args.problems.push(`unknown option ${a.replace(/=.*$/, "")}`);
    else if (args.file === undefined) args.file = a;
    else args.problems.push(`only one dump file is read; got "${args.file}" and "${a}"`);
  }
  if (!args.help && args.file === undefined) args.problems.push("no dump file given (use - to read stdin)");
  return args;
}

function readInput(file: string): string {
  return readFileSync(file === "-" ? 0 : file, "utf8");
}

/** Bad usage: every problem, then where the help is. */
function fail(messages: string[]): never {
  process.stderr.write(usageErrorText("trace", messages));
  process.exit(2);
}

/** The input cannot be read or traced: the problem alone (the command line was right). */
function failInput(message: string): never {
  process.stderr.write(errorText("trace", [message]));
  process.exit(2);
}

export function renderTable(result: TraceResult): string {
  const lines: string[] = [`format: ${result.format}`, ""];
  if (result.services.length === 0) lines.push("no services found in the nat rules");
  for (const s of result.services) {
    const head = `${s.service ?? "(unnamed)"} ${s.protocol}`;
    const cip = s.clusterIP !== null ? `clusterIP ${s.clusterIP}:${s.port}` : "no clusterIP rule";
    const np = s.nodePort !== null ? `nodePort ${s.nodePort}` : "no nodePort";
    lines.push(`${head}  ${cip}  ${np}`);
    type Service = TraceResult["services"][number];
    const row = (label: string, eps: Service["endpoints"] | null, unknown: Service["unresolved"] | null) => {
      if (eps === null) return;
      const pct = (x: number) => `${(x * 100).toFixed(2).padStart(6)}%`;
      if (eps.length === 0 && (unknown ?? []).length === 0) lines.push(`  ${label}: (none: new connections are not forwarded)`);
      for (const e of eps) {
        lines.push(`  ${label}: ${`${e.ip}:${e.port}`.padEnd(22)} ${pct(e.share)}  via ${e.chain ?? "?"}${e.from === "comment" ? " (not in the dump: address from its comment only)" : ""}`);
      }
      for (const u of unknown ?? []) lines.push(`  ${label}: ${"unknown".padEnd(22)} ${pct(u.share)}  at ${u.chain}: ${u.reason}`);
    };
    row("clusterIP", s.clusterIP !== null || s.endpoints.length > 0 || s.unresolved.length > 0 ? s.endpoints : null, s.unresolved);
    row("nodePort ", s.nodePortEndpoints, s.nodePortUnresolved);
  }
  if (result.warnings.length > 0) {
    lines.push("", `warnings (${result.warnings.length}):`);
    for (const w of result.warnings) lines.push(`  ${w}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The trace of one Service: an iptables-save dump cut down to its rules first (sources/node-reduce.ts,
 * the verifier's own reduction), then traced; warnings keep the dump's own line numbers. Other
 * formats are traced whole. A Service the dump has no rule for is said in a warning, not left as
 * a silent empty list.
 */
export function traceOneService(prepared: ReturnType<typeof prepareDump>, service: NonNullable<Args["service"]>, nodeIP?: string): TraceResult {
  const name = `${service.namespace}/${service.name}`;
  let text = prepared.text;
  let lineNumbers: number[] | undefined;
  if (prepared.format === "iptables-save") {
    const cut = reduceDump({ command: "trace", backend: "legacy", text }, { namespace: service.namespace, name: service.name, clusterIPs: [], nodePorts: [] });
    text = cut.text;
    lineNumbers = cut.lineNumbers;
  }
  const traced = tracePrepared({ ...prepared, text }, { nodeIP, evidence: false });
  const line = (n: number) => lineNumbers?.[n - 1] ?? n;
  const services = traced.services.filter((s) => {
    const [svc, port] = (s.service ?? "").split(":");
    return svc === name && (service.port === undefined || port === service.port || String(s.port) === service.port);
  });
  const warnings = traced.warnings.map((w) => w.replace(/\bline (\d+)/g, (_, n: string) => `line ${line(Number(n))}`));
  if (services.length === 0) warnings.push(`no rule in this dump names Service ${name}${service.port ? ` port ${service.port}` : ""} (kube-proxy's comments name each Service's rules "${name}:PORT"): it has no rules here, or the dump was cut before them`);
  return { ...traced, services, warnings };
}

export function main(argv: string[]): void {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  if (args.problems.length > 0) fail(args.problems);
  let text: string;
  try {
    text = readInput(args.file!);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "ENOENT" ? "no such file" : e.code === "EISDIR" ? "it is a directory" : e.message;
    failInput(`cannot read "${args.file}": ${why}; give the path of a saved dump (e.g. iptables-save -t nat > nat.txt)`);
  }
  if (text.trim() === "") failInput(`"${args.file}" is empty; save a dump with \`iptables-save -t nat\`, \`iptables -t nat -nvL\` or \`nft list ruleset\``);
  const prepared = prepareDump(text);
  if (prepared.format === undefined) {
    failInput(`"${args.file}" is not a dump this tool reads: expected iptables-save output ("*nat", "-A CHAIN ..."), \`iptables -L\` output ("Chain X (...)") or \`nft list\` output ("table ip kube-proxy {")`);
  }
  if (args.json && !args.service) {
    // the whole dump's answer is written as it is traced, service by service
    const out = new ContractJsonWriter(prepared.format, (chunk) => process.stdout.write(chunk));
    const { warnings } = streamPrepared(prepared, { nodeIP: args.nodeIP, evidence: false }, (s) => out.service(s));
    out.end(warnings);
    return;
  }
  const result = args.service ? traceOneService(prepared, args.service, args.nodeIP) : tracePrepared(prepared, { nodeIP: args.nodeIP, evidence: false });
  process.stdout.write(args.json ? JSON.stringify(toContractJson(result), null, 2) + "\n" : renderTable(result));
}

if (require.main === module) main(process.argv.slice(2));
