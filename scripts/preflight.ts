// Preflight for `npm run up` / `npm run destroy`: checks every prerequisite, reports all that are
// missing at once (each with the command that fixes it), and only then runs pulumi.
//
//   npm run preflight                checks only
//   npm run up [-- args]             checks, then `pulumi up args`
//   npm run destroy [-- args]        checks, then `pulumi destroy args`, then suggests `npm run sweep`
//
// The checks are plain functions over an injected context (command runner, environment, files),
// so tests drive them without pulumi or gcloud installed.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RawConfig } from "../components/config";
import { REPO_ROOT } from "./repo";
import { CLI_WIDTH, errorText, usageErrorText, wrapMessage } from "../verifier/cli/flags";
import { wrap } from "../verifier/report/layout";

export interface CommandResult {
  /** Exit code; undefined when the program could not be started (not installed). */
  code: number | undefined;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (command: string, args: string[], env: NodeJS.ProcessEnv) => Promise<CommandResult>;

export interface PreflightContext {
  run: CommandRunner;
  env: NodeJS.ProcessEnv;
  repoDir: string;
  homeDir: string;
  readFile(file: string): string | undefined;
  /**
   * POSTs JSON with a bearer token and returns status and parsed body (undefined: no answer). Used
   * only for Resource Manager's projects.testIamPermissions; absent = that check is not run.
   */
  postJson?(url: string, token: string, body: unknown): Promise<{ status: number; body: unknown } | undefined>;
}

/** "warn": needed by `npm run verify` over IAP, not by `pulumi up`, so it does not stop `up`. */
export type CheckStatus = "ok" | "missing" | "blocked" | "warn";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The command (or step) that fixes it; set when status is "missing". */
  fix?: string;
}

export type Operation = "up" | "destroy" | "check";

/** APIs the program calls. cloudresourcemanager: the node service account's project IAM bindings. */
export const requiredApis = ["compute.googleapis.com", "container.googleapis.com", "iam.googleapis.com", "cloudresourcemanager.googleapis.com"];

// ---------------------------------------------------------------- backend

export interface Backend {
  /** The URL pulumi will use; undefined when an existing `pulumi login` decides. */
  url: string | undefined;
  source: "PULUMI_BACKEND_URL" | "pulumi login" | "default (local files)";
  /** Self-managed backends keep secrets with a passphrase; Pulumi Cloud does not need one. */
  needsPassphrase: boolean;
}

export function localStateUrl(repoDir: string): string {
  return `file://${path.join(repoDir, ".pulumi-state")}`;
}

const cloudBackend = /^https?:\/\//;

/** An explicit PULUMI_BACKEND_URL wins, then an existing `pulumi login`, else the repo's local state. */
export function chooseBackend(ctx: PreflightContext): Backend {
  const fromEnv = ctx.env.PULUMI_BACKEND_URL?.trim();
  if (fromEnv) {
    return { url: fromEnv, source: "PULUMI_BACKEND_URL", needsPassphrase: !cloudBackend.test(fromEnv) };
  }
  const credentialsFile = path.join(ctx.env.PULUMI_HOME ?? path.join(ctx.homeDir, ".pulumi"), "credentials.json");
  const credentials = ctx.readFile(credentialsFile);
  if (credentials !== undefined) {
    try {
      const current = (JSON.parse(credentials) as { current?: unknown }).current;
      if (typeof current === "string" && current !== "") {
        return { url: undefined, source: "pulumi login", needsPassphrase: !cloudBackend.test(current) };
      }
    } catch {
      // An unreadable credentials file is no login; fall through to the local default.
    }
  }
  return { url: localStateUrl(ctx.repoDir), source: "default (local files)", needsPassphrase: true };
}

/** The environment pulumi runs with: the chosen backend, and no type-check at run time (`npm test` type-checks). */
export function pulumiEnv(ctx: PreflightContext, backend: Backend): NodeJS.ProcessEnv {
  return {
    ...ctx.env,
    ...(backend.url === undefined ? {} : { PULUMI_BACKEND_URL: backend.url }),
    PULUMI_NODEJS_TRANSPILE_ONLY: ctx.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
  };
}

// ---------------------------------------------------------------- checks

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

async function tool(ctx: PreflightContext, name: string, command: string, args: string[], fix: string): Promise<CheckResult> {
  const result = await ctx.run(command, args, ctx.env);
  if (result.code === 0) {
    return { name, status: "ok", detail: firstLine(result.stdout || result.stderr) };
  }
  const detail = result.code === undefined ? `${command} not found on PATH` : `${command} ${args.join(" ")} failed: ${firstLine(result.stderr || result.stdout)}`;
  return { name, status: "missing", detail, fix };
}

export function checkPulumiCli(ctx: PreflightContext): Promise<CheckResult> {
  return tool(ctx, "pulumi CLI", "pulumi", ["version"], "curl -fsSL https://get.pulumi.com | sh   (then open a new shell)");
}

export function checkGcloud(ctx: PreflightContext): Promise<CheckResult> {
  return tool(ctx, "gcloud CLI", "gcloud", ["--version"], "install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install");
}

export function checkAuthPlugin(ctx: PreflightContext): Promise<CheckResult> {
  return tool(
    ctx,
    "gke-gcloud-auth-plugin",
    "gke-gcloud-auth-plugin",
    ["--version"],
    "gcloud components install gke-gcloud-auth-plugin   (apt: sudo apt-get install google-cloud-cli-gke-gcloud-auth-plugin)",
  );
}

/** Application Default Credentials as the Google provider finds them: the env file, or gcloud's well-known file. */
export function checkApplicationDefaultCredentials(ctx: PreflightContext): CheckResult {
  const name = "application-default credentials";
  const explicit = ctx.env.GOOGLE_APPLICATION_CREDENTIALS;
  if (explicit) {
    return ctx.readFile(explicit) !== undefined
      ? { name, status: "ok", detail: `GOOGLE_APPLICATION_CREDENTIALS=${explicit}` }
      : { name, status: "missing", detail: `GOOGLE_APPLICATION_CREDENTIALS points to ${explicit}, which cannot be read`, fix: "fix the path, or unset it and run: gcloud auth application-default login" };
  }
  const configDir = ctx.env.CLOUDSDK_CONFIG ?? path.join(ctx.homeDir, ".config", "gcloud");
  const wellKnown = path.join(configDir, "application_default_credentials.json");
  if (ctx.readFile(wellKnown) !== undefined) {
    return { name, status: "ok", detail: wellKnown };
  }
  return { name, status: "missing", detail: `no ${wellKnown} and no GOOGLE_APPLICATION_CREDENTIALS`, fix: "gcloud auth application-default login" };
}

export function checkPassphrase(ctx: PreflightContext, backend: Backend): CheckResult {
  const name = "secrets passphrase";
  if (!backend.needsPassphrase) {
    return { name, status: "ok", detail: "not needed: Pulumi Cloud keeps the secrets" };
  }
  if (ctx.env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
    return { name, status: "ok", detail: "PULUMI_CONFIG_PASSPHRASE is set" };
  }
  const file = ctx.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (file) {
    return ctx.readFile(file) !== undefined
      ? { name, status: "ok", detail: `PULUMI_CONFIG_PASSPHRASE_FILE=${file}` }
      : { name, status: "missing", detail: `PULUMI_CONFIG_PASSPHRASE_FILE points to ${file}, which cannot be read`, fix: passphraseFix };
  }
  return {
    name,
    status: "missing",
    detail: `a self-managed state backend (${backend.url ?? "the current login"}) encrypts the kubeconfig and SSH key outputs with a passphrase; none is set`,
    fix: passphraseFix,
  };
}

// One command a line, so each fits the terminal and the block still pastes as it is.
const passphraseFix = [
  "mkdir -p ~/.config/gke-ingress-path",
  "(umask 077; openssl rand -base64 24 > ~/.config/gke-ingress-path/passphrase)",
  "export PULUMI_CONFIG_PASSPHRASE_FILE=~/.config/gke-ingress-path/passphrase",
].join("\n");

function backendPrefix(backend: Backend): string {
  return backend.url !== undefined && backend.source !== "pulumi login" ? `PULUMI_BACKEND_URL=${backend.url} ` : "";
}

export async function checkStack(ctx: PreflightContext, backend: Backend): Promise<CheckResult & { stack?: string }> {
  const name = "stack selected";
  const result = await ctx.run("pulumi", ["stack", "--show-name", "--non-interactive"], pulumiEnv(ctx, backend));
  const stack = result.stdout.trim();
  if (result.code === 0 && stack !== "") {
    return { name, status: "ok", detail: `${stack} (backend: ${backend.url ?? "pulumi login"}, ${backend.source})`, stack };
  }
  return {
    name,
    status: "missing",
    detail: `no current stack on ${backend.url ?? "the logged-in backend"}: ${firstLine(result.stderr || result.stdout)}`,
    fix: `${backendPrefix(backend)}pulumi stack select --create dev   (Pulumi.dev.yaml holds the example config)`,
  };
}

export async function checkStackConfig(
  ctx: PreflightContext,
  backend: Backend,
  stack: string,
  passphraseOk = true,
): Promise<{ project: CheckResult; config: CheckResult; projectId?: string }> {
  const result = await ctx.run("pulumi", ["config", "--json", "--stack", stack], pulumiEnv(ctx, backend));
  if (result.code !== 0 && !passphraseOk) {
    // A passphrase-protected stack cannot even list its config without the passphrase.
    return { project: blocked("gcp:project set", "the secrets passphrase"), config: blocked("stack config valid", "the secrets passphrase") };
  }
  if (result.code !== 0) {
    const detail = `pulumi config --json failed: ${firstLine(result.stderr || result.stdout)}`;
    return {
      project: { name: "gcp:project set", status: "missing", detail, fix: `${backendPrefix(backend)}pulumi config --stack ${stack}   (shows the same error; fix what it names)` },
      config: blocked("stack config valid", "a readable stack config"),
    };
  }
  const raw: Record<string, string> = {};
  for (const [key, entry] of Object.entries(JSON.parse(result.stdout) as Record<string, { value?: unknown; objectValue?: unknown }>)) {
    const value = entry.objectValue ?? entry.value;
    if (value !== undefined) {
      raw[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  const projectId = raw["gcp:project"];
  const project: CheckResult = projectId
    ? { name: "gcp:project set", status: "ok", detail: projectId }
    : { name: "gcp:project set", status: "missing", detail: `stack ${stack} has no gcp:project`, fix: `${backendPrefix(backend)}pulumi config set gcp:project <your-project-id>` };
  // Loaded here: components/config imports @pulumi/pulumi, about 2 s of start-up that --help and the
  // earlier checks do not need.
  const { formatIssues, parseConfig } = require("../components/config") as typeof import("../components/config");
  const otherIssues = parseConfig(raw as RawConfig).issues.filter((i) => i.key !== "gcp:project");
  const config: CheckResult =
    otherIssues.length === 0
      ? { name: "stack config valid", status: "ok", detail: "every key passes components/config.ts" }
      : { name: "stack config valid", status: "missing", detail: formatIssues(otherIssues), fix: `${backendPrefix(backend)}pulumi config set <key> <value>   (see README, "Configuration")` };
  return { project, config, projectId };
}

export async function checkApis(ctx: PreflightContext, projectId: string): Promise<CheckResult & { enabled?: Set<string> }> {
  const name = "Google APIs enabled";
  const result = await ctx.run("gcloud", ["services", "list", "--enabled", "--project", projectId, "--format=value(config.name)"], ctx.env);
  if (result.code !== 0) {
    return {
      name,
      status: "missing",
      detail: `cannot list enabled services of ${projectId}: ${firstLine(result.stderr || result.stdout)}`,
      fix: "gcloud auth login   (and check the project id)",
    };
  }
  const enabled = new Set(result.stdout.split(/\s+/).filter(Boolean));
  const missing = requiredApis.filter((api) => !enabled.has(api));
  return missing.length === 0
    ? { name, status: "ok", detail: requiredApis.join(", "), enabled }
    : { name, status: "missing", detail: `not enabled: ${missing.join(", ")}`, fix: `gcloud services enable ${missing.join(" ")} --project ${projectId}`, enabled };
}

// ---------------------------------------------------------------- verify over IAP

/** The API the verifier's default transport needs (gcloud compute ssh --tunnel-through-iap). */
export const iapApi = "iap.googleapis.com";

/**
 * Permissions `npm run verify` needs, per identity. The IAP tunnel runs under the gcloud CLI's own
 * login (gcloud auth login), not Application Default Credentials: it needs to open the tunnel and
 * read the project and instance (gcloud compute ssh does both). The verifier's own Compute calls run
 * under ADC: the nodes' host keys from guest attributes, else from the serial console.
 */
export const iapPermissions = {
  gcloudLogin: ["iap.tunnelInstances.accessViaIAP", "compute.projects.get", "compute.instances.get"],
  applicationDefault: ["compute.instances.getGuestAttributes", "compute.instances.getSerialPortOutput"],
} as const;

const notCheckable =
  "not checked here: grants on single instances (only project-level grants are tested), organization policies " +
  "(constraints/compute.disableSerialPortLogging, constraints/compute.requireOsLogin), and the IAP firewall rule (the program creates it)";

/** Project-level testIamPermissions for one token; the permissions it lacks, or why it could not tell. */
async function lackingPermissions(ctx: PreflightContext, projectId: string, token: string, wanted: readonly string[]): Promise<string[] | string> {
  const url = `https://cloudresourcemanager.googleapis.com/v1/projects/${encodeURIComponent(projectId)}:testIamPermissions`;
  const answer = await ctx.postJson!(url, token, { permissions: wanted }).catch(() => undefined);
  if (!answer) return "no answer from the Resource Manager API";
  if (answer.status !== 200) return `testIamPermissions answered HTTP ${answer.status}`;
  const held = new Set(((answer.body as { permissions?: unknown }).permissions as string[] | undefined) ?? []);
  return wanted.filter((p) => !held.has(p));
}

/**
 * What `npm run verify` needs for its default IAP transport: gcloud's own login, the IAP API and
 * the permissions above. Results are "warn" (not "missing"): `pulumi up` does not need them.
 */
export async function checkIapPrerequisites(ctx: PreflightContext, projectId: string, enabledApis: Set<string> | undefined): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const loginName = "gcloud login (verify over IAP)";
  // The token is only handed to the permission test, never printed.
  const login = await ctx.run("gcloud", ["auth", "print-access-token", "--quiet"], ctx.env);
  const gcloudToken = login.code === 0 ? login.stdout.trim() : "";
  results.push(
    gcloudToken
      ? { name: loginName, status: "ok", detail: "gcloud has an active account (IAP uses it, not Application Default Credentials)" }
      : { name: loginName, status: "warn", detail: `gcloud has no usable login: ${firstLine(login.stderr) || "no token"}; IAP tunnels use gcloud's own login, not ADC`, fix: "gcloud auth login" },
  );
  const apiName = "IAP API enabled (verify over IAP)";
  if (enabledApis === undefined) results.push(blocked(apiName, "the list of enabled APIs"));
  else if (enabledApis.has(iapApi)) results.push({ name: apiName, status: "ok", detail: iapApi });
  else results.push({ name: apiName, status: "warn", detail: `${iapApi} is not enabled`, fix: `gcloud services enable ${iapApi} --project ${projectId}` });

  const permName = "permissions (verify over IAP)";
  if (!ctx.postJson) {
    results.push({ name: permName, status: "blocked", detail: "not checked: no HTTP client in this context" });
    return results;
  }
  const adc = await ctx.run("gcloud", ["auth", "application-default", "print-access-token", "--quiet"], ctx.env);
  const adcToken = adc.code === 0 ? adc.stdout.trim() : "";
  const lacking: string[] = [];
  const unknown: string[] = [];
  for (const [who, token, wanted] of [
    ["gcloud login", gcloudToken, iapPermissions.gcloudLogin],
    ["application-default credentials", adcToken, iapPermissions.applicationDefault],
  ] as const) {
    if (!token) {
      unknown.push(`${who}: no token, so ${wanted.join(", ")} not tested`);
      continue;
    }
    const got = await lackingPermissions(ctx, projectId, token, wanted);
    if (typeof got === "string") unknown.push(`${who}: ${got}, so ${wanted.join(", ")} not tested`);
    else lacking.push(...got.map((p) => `${p} (${who})`));
  }
  if (lacking.length > 0) {
    results.push({
      name: permName,
      status: "warn",
      detail: `missing on project ${projectId}: ${lacking.join(", ")}${unknown.length ? `; cannot tell: ${unknown.join("; ")}` : ""}; ${notCheckable}`,
      fix: `gcloud projects add-iam-policy-binding ${projectId} --member user:<you> --role roles/iap.tunnelResourceAccessor   (and a role with the compute.* ones, e.g. roles/compute.instanceAdmin.v1)`,
    });
  } else if (unknown.length > 0) {
    results.push({ name: permName, status: "blocked", detail: `cannot tell: ${unknown.join("; ")}; ${notCheckable}` });
  } else {
    results.push({ name: permName, status: "ok", detail: `held on project ${projectId}: ${[...iapPermissions.gcloudLogin, ...iapPermissions.applicationDefault].join(", ")}; ${notCheckable}` });
  }
  return results;
}

function blocked(name: string, needs: string): CheckResult {
  return { name, status: "blocked", detail: `not checked: needs ${needs}` };
}

/** Runs every check that applies to the operation; a check that needs a missing tool is "blocked", not skipped silently. */
export async function runChecks(
  ctx: PreflightContext,
  operation: Operation,
): Promise<{ results: CheckResult[]; backend: Backend; stack?: string; projectId?: string }> {
  const backend = chooseBackend(ctx);
  // Destroying needs neither gcloud nor the API check: the providers and the auth plugin use ADC,
  // and whatever exists was created with the APIs enabled.
  const needsGcloud = operation !== "destroy";
  const [pulumiCli, gcloud, plugin] = await Promise.all([
    checkPulumiCli(ctx),
    needsGcloud ? checkGcloud(ctx) : undefined,
    checkAuthPlugin(ctx),
  ]);
  const passphrase = checkPassphrase(ctx, backend);
  const results: CheckResult[] = [pulumiCli, ...(gcloud ? [gcloud] : []), plugin, checkApplicationDefaultCredentials(ctx), passphrase];

  let stack: string | undefined;
  let projectId: string | undefined;
  if (pulumiCli.status !== "ok") {
    results.push(blocked("stack selected", "the pulumi CLI"), blocked("gcp:project set", "the pulumi CLI"), blocked("stack config valid", "the pulumi CLI"));
  } else {
    const stackResult = await checkStack(ctx, backend);
    results.push(stackResult);
    stack = stackResult.stack;
    if (stack === undefined) {
      results.push(blocked("gcp:project set", "a selected stack"), blocked("stack config valid", "a selected stack"));
    } else {
      const config = await checkStackConfig(ctx, backend, stack, passphrase.status === "ok");
      results.push(config.project, config.config);
      projectId = config.projectId;
    }
  }

  if (gcloud !== undefined) {
    const iapNames = ["gcloud login (verify over IAP)", "IAP API enabled (verify over IAP)", "permissions (verify over IAP)"];
    if (gcloud.status !== "ok") {
      results.push(blocked("Google APIs enabled", "the gcloud CLI"), ...iapNames.map((n) => blocked(n, "the gcloud CLI")));
    } else if (projectId === undefined) {
      results.push(blocked("Google APIs enabled", "gcp:project"), ...iapNames.map((n) => blocked(n, "gcp:project")));
    } else {
      const { enabled, ...apis } = await checkApis(ctx, projectId);
      results.push(apis, ...(await checkIapPrerequisites(ctx, projectId, enabled)));
    }
  }
  return { results, backend, stack, projectId };
}

/**
 * Whether the results stop `up` / `destroy`: anything missing or not checked, except what only
 * `npm run verify` over IAP needs (warnings, and those checks when they could not run).
 */
export function stopsOperation(results: CheckResult[]): boolean {
  const verifyOnly = (r: CheckResult) => r.status === "warn" || (r.status === "blocked" && r.name.endsWith("(verify over IAP)"));
  return results.some((r) => r.status !== "ok" && !verifyOnly(r));
}

export function renderChecks(results: CheckResult[], backend: Backend): string {
  const mark: Record<CheckStatus, string> = { ok: "ok  ", missing: "FAIL", blocked: "--  ", warn: "warn" };
  const lines = [`state backend: ${backend.url ?? "the current `pulumi login`"} (${backend.source})`];
  // Wrapped to CLI_WIDTH, continuing two spaces in from where the text starts; a detail or fix of
  // several lines (one command a line) keeps its lines, each wrapped on its own.
  const block = (text: string, first: string, indent: string) =>
    text.split("\n").flatMap((line, i) => wrap(line, CLI_WIDTH, i === 0 ? first : indent, `${indent}  `));
  for (const r of results) {
    lines.push(...block(`${r.name}: ${r.detail}`, `[${mark[r.status]}] `, "       "));
    if ((r.status === "missing" || r.status === "warn") && r.fix) {
      lines.push(...block(r.fix, "       fix: ", "            "));
    }
  }
  const missing = results.filter((r) => r.status === "missing").length;
  const notChecked = results.filter((r) => r.status === "blocked").length;
  const warnings = results.filter((r) => r.status === "warn").length;
  const forVerify = warnings > 0 ? `; ${warnings} warning(s) for \`npm run verify\` over IAP (they do not stop \`up\`)` : "";
  lines.push(
    wrapMessage(
      missing === 0 && notChecked === 0
        ? `preflight: all prerequisites present${forVerify}`
        : `preflight: ${missing} missing${notChecked > 0 ? `, ${notChecked} not checked until those are fixed` : ""}${forVerify}; fix them and run again`,
    ),
  );
  return lines.join("\n");
}

// ---------------------------------------------------------------- running

export const systemRunner: CommandRunner = (command, args, env) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", () => resolve({ code: undefined, stdout, stderr }));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

function readFileOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export function systemContext(repoDir: string): PreflightContext {
  return { run: systemRunner, env: process.env, repoDir, homeDir: os.homedir(), readFile: readFileOrUndefined, postJson };
}

async function postJson(url: string, token: string, body: unknown): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, body: await response.json().catch(() => ({})) };
  } catch {
    return undefined;
  }
}

function runInteractive(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: "inherit" });
    child.on("error", () => resolve(127));
    child.on("close", (code) => resolve(code ?? 1));
  });
}

export function parseArgs(argv: string[]): { operation: Operation; pulumiArgs: string[] } {
  const [first, ...rest] = argv;
  const operation: Operation = first === "up" || first === "destroy" ? first : "check";
  const args = operation === "check" ? argv : rest;
  return { operation, pulumiArgs: args[0] === "--" ? args.slice(1) : args };
}

export const usage = `usage: npm run preflight [-- --help]
       npm run up [-- <flags>]
       npm run destroy [-- <flags>]

Checks every prerequisite of \`pulumi up\` and reports all that are missing at once, each with the
command that fixes it. up and destroy run the same checks first, then pulumi.

commands:
  npm run preflight   the checks only
  npm run up          the checks, then \`pulumi up <flags>\` (e.g. -- --yes)
  npm run destroy     the checks, then \`pulumi destroy <flags>\`, then what to sweep

options:
  -h, --help          this text (the bare check only: after up or destroy every flag is pulumi's)

environment:
  PULUMI_BACKEND_URL  the state backend; else your \`pulumi login\`; else file://<repo>/.pulumi-state

exit codes:
  0  all present (after up or destroy: pulumi's own exit code)
  1  something is missing
  2  bad arguments`;

async function main(): Promise<number> {
  const repoDir = REPO_ROOT;
  const argv = process.argv.slice(2);
  // Only the bare check takes --help; after up/destroy every flag belongs to pulumi.
  if (argv[0] === "--help" || argv[0] === "-h") {
    console.log(usage);
    return 0;
  }
  const { operation, pulumiArgs } = parseArgs(argv);
  // The bare check takes no argument; anything else is a typo, not something to ignore silently.
  if (operation === "check" && pulumiArgs.length > 0) {
    const problems = pulumiArgs.map((a) => `${a.startsWith("-") ? `unknown option ${a}` : `unexpected argument "${a}"`}: the check takes none (flags for pulumi go after up or destroy: npm run up -- --yes)`);
    process.stderr.write(usageErrorText("preflight", problems));
    return 2;
  }
  const ctx = systemContext(repoDir);
  const backend = chooseBackend(ctx);
  if (backend.source === "default (local files)") {
    // pulumi needs the directory of a file:// backend to exist.
    fs.mkdirSync(path.join(repoDir, ".pulumi-state"), { recursive: true });
  }
  const { results, stack, projectId } = await runChecks(ctx, operation);
  console.log(renderChecks(results, backend));
  if (stopsOperation(results)) {
    return 1;
  }
  if (operation === "check") {
    return 0;
  }
  const code = await runInteractive("pulumi", [operation, "--stack", stack!, ...pulumiArgs], pulumiEnv(ctx, backend));
  if (operation === "destroy") {
    console.log(`\n${destroyFollowUp(code, projectId!)}`);
  }
  return code;
}

/**
 * What to do after `pulumi destroy`. Also (above all) after a failed one: the usual failure is the
 * VPC or subnet still "being used by" a firewall rule, instance group or NEG the Ingress controller
 * created and did not delete, which is exactly what the sweep lists. Stack outputs are gone after
 * destroy, so the sweep gets the project explicitly.
 */
export function destroyFollowUp(code: number, projectId: string): string {
  const sweep = `npm run sweep -- --project ${projectId}`;
  return wrapMessage(code === 0
    ? `next: ${sweep}   (lists load-balancer pieces the Ingress controller left behind, with the commands to delete them)`
    : `pulumi destroy failed (exit ${code}). If a network or subnet is "already being used by" another resource, run ${sweep}, delete what it lists, then run npm run destroy again.`);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(errorText("preflight", [err instanceof Error ? err.message : String(err)]));
      process.exit(1);
    },
  );
}
