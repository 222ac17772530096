// The stack outputs the verifier starts from (design.md "contract: stack outputs"): read them from
// `pulumi stack output --json --show-secrets` or a saved JSON file, and validate every key at once.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { redactText } from "./redact";
import type { StackOutputs } from "./sources/types";

/** Bad input: every problem found, each naming the key and how to fix it. Exit code 2. */
export class InputError extends Error {
  constructor(
    readonly problems: string[],
    readonly context: string,
  ) {
    super(`${context}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "InputError";
  }
}

export const SECRET_OUTPUT_KEYS = ["kubeconfig", "sshPrivateKey"] as const;
const STRING_KEYS = ["url", "project", "location", "clusterName", "namespace", "deploymentName", "serviceName", "ingressName", "nodeTag", "sshUser", "kubeconfig", "sshPrivateKey"] as const;
const IP_KEYS = ["loadBalancerIp", "serviceClusterIp"] as const;
const PORT_KEYS = ["nodePort", "servicePort", "podPort"] as const;

const isSecretKey = (key: string) => (SECRET_OUTPUT_KEYS as readonly string[]).includes(key);
const show = (key: string, value: unknown) => (isSecretKey(key) ? "(secret, not shown)" : JSON.stringify(value)?.slice(0, 80));

/** Validate the outputs object; returns the typed outputs only when there is no problem. */
export function validateStackOutputs(raw: unknown): { outputs?: StackOutputs; problems: string[] } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { problems: ["the outputs are not a JSON object of output names to values (expected `pulumi stack output --json --show-secrets`)"] };
  }
  const src = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const missing = (key: string) => problems.push(`${key}: missing; the program exports it (README, "Outputs"): run \`pulumi up\` with the current program`);

  for (const key of STRING_KEYS) {
    const v = src[key];
    if (v === undefined || v === null) missing(key);
    else if (v === "[secret]") problems.push(`${key}: is "[secret]": read the outputs with --show-secrets (\`pulumi stack output --json --show-secrets\`)`);
    else if (typeof v !== "string" || v.trim() === "") problems.push(`${key}: must be a non-empty string, got ${show(key, v)}`);
    else out[key] = v;
  }
  for (const key of IP_KEYS) {
    const v = src[key];
    if (v === undefined || v === null) missing(key);
    else if (typeof v !== "string" || !isIP(v)) problems.push(`${key}: must be an IP address, got ${show(key, v)}`);
    else out[key] = v;
  }
  for (const key of PORT_KEYS) {
    const v = src[key];
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (v === undefined || v === null) missing(key);
    else if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) problems.push(`${key}: must be a port number 1..65535, got ${show(key, v)}`);
    else out[key] = n;
  }
  if (typeof out.url === "string") {
    try {
      const u = new URL(out.url);
      if (u.protocol !== "http:" && u.protocol !== "https:") problems.push(`url: must be http:// or https://, got ${show("url", out.url)}`);
    } catch {
      problems.push(`url: not a URL: ${show("url", out.url)}`);
    }
  }
  if (typeof out.kubeconfig === "string" && !/server/.test(out.kubeconfig)) problems.push("kubeconfig: does not look like a kubeconfig (no clusters[].cluster.server)");
  if (typeof out.sshPrivateKey === "string" && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(out.sshPrivateKey)) {
    problems.push("sshPrivateKey: not a PEM / OpenSSH private key (no BEGIN ... PRIVATE KEY line)");
  }
  return problems.length === 0 ? { outputs: out as unknown as StackOutputs, problems } : { problems };
}

/** Replace every secret output value that occurs in `text` (for error messages and logs). */
export function redactSecrets(text: string, outputs?: object): string {
  let result = text;
  for (const key of SECRET_OUTPUT_KEYS) {
    const value = (outputs as Record<string, unknown> | undefined)?.[key];
    if (typeof value === "string" && value.length >= 8) result = result.split(value).join(`[${key} redacted]`);
  }
  // Keys, tokens and the like look alike whatever stack they came from: never let one through.
  return redactText(result);
}

export interface ReadOutputsOptions {
  /** a JSON file saved with `pulumi stack output --json --show-secrets` */
  file?: string;
  stack?: string;
  /** the Pulumi project directory */
  cwd?: string;
  /** the pulumi binary (tests use a stand-in) */
  pulumiCommand?: string;
  timeoutMs?: number;
}

function runPulumi(opts: ReadOutputsOptions): Promise<string> {
  const args = ["stack", "output", "--json", "--show-secrets", ...(opts.stack ? ["--stack", opts.stack] : [])];
  const command = opts.pulumiCommand ?? "pulumi";
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        const context = `could not read the stack outputs with \`${command} ${args.join(" ")}\``;
        if (code === "ENOENT") return reject(new InputError([`${command} is not on PATH: install the Pulumi CLI, or pass --outputs FILE`], context));
        const said = redactSecrets(String(stderr || err.message)).trim().split("\n").slice(0, 5).join(" / ");
        reject(new InputError([`${said || "failed"} — select the stack with --stack NAME (or \`pulumi stack select\`), log in with \`pulumi login\`, or pass --outputs FILE`], context));
      },
    );
  });
}

/** Read and validate the outputs; throws InputError listing every problem. */
export async function readStackOutputs(opts: ReadOutputsOptions): Promise<StackOutputs> {
  const where = opts.file ? `--outputs ${opts.file}` : `pulumi stack output${opts.stack ? ` --stack ${opts.stack}` : ""}`;
  let text: string;
  if (opts.file) {
    try {
      text = await readFile(opts.file, "utf8");
    } catch (err) {
      throw new InputError([`cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; save it with \`pulumi stack output --json --show-secrets > ${opts.file}\``], `the stack outputs (${where}) are not usable`);
    }
  } else {
    text = await runPulumi(opts);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the text around the error, which may be a secret: keep only the position.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new InputError([`not JSON${at ? ` (error at character ${at})` : ""}; save it with \`pulumi stack output --json --show-secrets\``], `the stack outputs (${where}) are not usable`);
  }
  const { outputs, problems } = validateStackOutputs(raw);
  if (!outputs) throw new InputError(problems.map((p) => redactSecrets(p, raw as Record<string, unknown>)), `the stack outputs (${where}) are not usable`);
  return outputs;
}
