// The preflight checks, driven through a scripted command runner and an in-memory file system.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chooseBackend,
  destroyFollowUp,
  localStateUrl,
  parseArgs,
  pulumiEnv,
  renderChecks,
  requiredApis,
  runChecks,
  stopsOperation,
  iapPermissions,
  type CommandResult,
  type PreflightContext,
} from "../../scripts/preflight";
import { cliArgs } from "../support/cli";

type Script = Record<string, CommandResult>;

const ok = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: "" });
const failed = (stderr: string): CommandResult => ({ code: 255, stdout: "", stderr });

/** A machine where everything is installed, logged in and configured. */
function healthyScript(): Script {
  return {
    "pulumi version": ok("v3.200.0\n"),
    "gcloud --version": ok("Google Cloud SDK 528.0.0\n"),
    "gke-gcloud-auth-plugin --version": ok("Kubernetes v1.30.0\n"),
    "pulumi stack --show-name --non-interactive": ok("dev\n"),
    "pulumi config --json --stack dev": ok(JSON.stringify({ "gcp:project": { value: "demo-project-1", secret: false }, "gke-ingress-path:nodeCount": { value: "3", secret: false } })),
    "gcloud services list --enabled --project demo-project-1 --format=value(config.name)": ok(`${requiredApis.join("\n")}\niap.googleapis.com\nstorage.googleapis.com\n`),
    "gcloud auth print-access-token --quiet": ok("ya29.gcloud-login-token\n"),
    "gcloud auth application-default print-access-token --quiet": ok("ya29.adc-token\n"),
  };
}

/** Resource Manager's testIamPermissions: each token holds the permissions listed for it. */
type Grants = Record<string, string[]>;
const allGranted: Grants = {
  "ya29.gcloud-login-token": [...iapPermissions.gcloudLogin],
  "ya29.adc-token": [...iapPermissions.applicationDefault],
};

function context(script: Script, env: NodeJS.ProcessEnv, files: Record<string, string> = {}, grants: Grants = allGranted) {
  const calls: { line: string; env: NodeJS.ProcessEnv }[] = [];
  const posts: { url: string; token: string; body: any }[] = [];
  const ctx: PreflightContext = {
    postJson: async (url, token, body: any) => {
      posts.push({ url, token, body });
      const held = grants[token];
      if (!held) return { status: 401, body: { error: { code: 401 } } };
      // The real API answers with the subset of the asked permissions the caller holds.
      return { status: 200, body: { permissions: body.permissions.filter((p: string) => held.includes(p)) } };
    },
    env,
    repoDir: "/repo",
    homeDir: "/home/u",
    readFile: (file) => files[file],
    run: async (command, args, runEnv) => {
      const line = [command, ...args].join(" ");
      calls.push({ line, env: runEnv });
      // Not in the script: the program is not installed.
      return script[line] ?? { code: undefined, stdout: "", stderr: "" };
    },
  };
  return { ctx, calls, posts };
}

const adcFile = "/home/u/.config/gcloud/application_default_credentials.json";
const healthyFiles = { [adcFile]: "{}" };
const healthyEnv = { PULUMI_CONFIG_PASSPHRASE: "x" };

test("all present: every check ok, the local backend is used and passed to pulumi", async () => {
  const { ctx, calls } = context(healthyScript(), healthyEnv, healthyFiles);
  const { results, stack, backend, projectId } = await runChecks(ctx, "up");
  expect(results.map((r) => [r.name, r.status])).toEqual([
    ["pulumi CLI", "ok"],
    ["gcloud CLI", "ok"],
    ["gke-gcloud-auth-plugin", "ok"],
    ["application-default credentials", "ok"],
    ["secrets passphrase", "ok"],
    ["stack selected", "ok"],
    ["gcp:project set", "ok"],
    ["stack config valid", "ok"],
    ["Google APIs enabled", "ok"],
    ["gcloud login (verify over IAP)", "ok"],
    ["IAP API enabled (verify over IAP)", "ok"],
    ["permissions (verify over IAP)", "ok"],
  ]);
  expect(stack).toBe("dev");
  expect(projectId).toBe("demo-project-1");
  expect(backend).toEqual({ url: localStateUrl("/repo"), source: "default (local files)", needsPassphrase: true });
  const stackCall = calls.find((c) => c.line.startsWith("pulumi stack"));
  expect(stackCall?.env.PULUMI_BACKEND_URL).toBe("file:///repo/.pulumi-state");
  expect(renderChecks(results, backend)).toMatch(/preflight: all prerequisites present/);
});

test("nothing installed (this CI machine): every missing piece reported at once, each with its fix; dependents marked not checked", async () => {
  const { ctx } = context({}, {}, {});
  const { results, backend } = await runChecks(ctx, "up");
  const missing = results.filter((r) => r.status === "missing");
  expect(missing.map((r) => r.name)).toEqual(["pulumi CLI", "gcloud CLI", "gke-gcloud-auth-plugin", "application-default credentials", "secrets passphrase"]);
  for (const r of missing) expect(r.fix).toBeTruthy();
  expect(results.filter((r) => r.status === "blocked").map((r) => r.name)).toEqual([
    "stack selected", "gcp:project set", "stack config valid", "Google APIs enabled",
    "gcloud login (verify over IAP)", "IAP API enabled (verify over IAP)", "permissions (verify over IAP)",
  ]);
  const text = renderChecks(results, backend);
  expect(text).toMatch(/fix: curl -fsSL https:\/\/get.pulumi.com/);
  expect(text).toMatch(/fix: gcloud auth application-default login/);
  expect(text).toMatch(/fix: gcloud components install gke-gcloud-auth-plugin/);
  expect(text).toMatch(/PULUMI_CONFIG_PASSPHRASE_FILE/);
  expect(text).toMatch(/preflight: 5 missing, 7 not checked/);
});

test("no stack, then no gcp:project: the fix names the backend the user must use", async () => {
  const noStack = healthyScript();
  noStack["pulumi stack --show-name --non-interactive"] = failed("error: no stack selected; please use `pulumi stack select`");
  const first = await runChecks(context(noStack, healthyEnv, healthyFiles).ctx, "up");
  const stack = first.results.find((r) => r.name === "stack selected")!;
  expect(stack).toMatchObject({ status: "missing", fix: expect.stringContaining("PULUMI_BACKEND_URL=file:///repo/.pulumi-state pulumi stack select --create dev") });
  expect(first.results.find((r) => r.name === "Google APIs enabled")?.status).toBe("blocked");

  const noProject = healthyScript();
  noProject["pulumi config --json --stack dev"] = ok("{}");
  const second = await runChecks(context(noProject, healthyEnv, healthyFiles).ctx, "up");
  expect(second.results.find((r) => r.name === "gcp:project set")).toMatchObject({ status: "missing", fix: expect.stringContaining("pulumi config set gcp:project") });
});

test("a stack that cannot read its config without the passphrase: config checks wait for the passphrase", async () => {
  const script = healthyScript();
  script["pulumi config --json --stack dev"] = failed("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE");
  const { results } = await runChecks(context(script, {}, healthyFiles).ctx, "up");
  expect(results.filter((r) => r.status !== "ok").map((r) => [r.name, r.status])).toEqual([
    ["secrets passphrase", "missing"],
    ["gcp:project set", "blocked"],
    ["stack config valid", "blocked"],
    ["Google APIs enabled", "blocked"],
    ["gcloud login (verify over IAP)", "blocked"],
    ["IAP API enabled (verify over IAP)", "blocked"],
    ["permissions (verify over IAP)", "blocked"],
  ]);
});

test("verify over IAP: gcloud's own login, the IAP API and the permissions of each identity are checked; they warn, they do not stop up", async () => {
  // ADC is there, gcloud's own login is not; IAP API off.
  const script = healthyScript();
  script["gcloud auth print-access-token --quiet"] = failed("ERROR: (gcloud.auth.print-access-token) You do not currently have an active account selected.");
  script["gcloud services list --enabled --project demo-project-1 --format=value(config.name)"] = ok(requiredApis.join("\n"));
  const noLogin = context(script, healthyEnv, healthyFiles, { "ya29.adc-token": ["compute.instances.getGuestAttributes"] });
  const { results, backend } = await runChecks(noLogin.ctx, "up");
  const iap = results.filter((r) => r.name.endsWith("(verify over IAP)"));
  expect(iap.map((r) => [r.name, r.status])).toEqual([
    ["gcloud login (verify over IAP)", "warn"],
    ["IAP API enabled (verify over IAP)", "warn"],
    ["permissions (verify over IAP)", "warn"],
  ]);
  expect(iap[0]?.fix).toBe("gcloud auth login");
  expect(iap[1]?.fix).toBe("gcloud services enable iap.googleapis.com --project demo-project-1");
  // What could be tested is, what could not is said.
  expect(iap[2]?.detail).toMatch(/missing on project demo-project-1: compute\.instances\.getSerialPortOutput \(application-default credentials\)/);
  expect(iap[2]?.detail).toMatch(/cannot tell: gcloud login: no token, so iap\.tunnelInstances\.accessViaIAP, compute\.projects\.get, compute\.instances\.get not tested/);
  expect(iap[2]?.detail).toMatch(/grants on single instances/);
  expect(noLogin.posts.map((p) => [p.url, p.token, p.body.permissions])).toEqual([
    ["https://cloudresourcemanager.googleapis.com/v1/projects/demo-project-1:testIamPermissions", "ya29.adc-token", [...iapPermissions.applicationDefault]],
  ]);
  expect(stopsOperation(results)).toBe(false);
  const text = renderChecks(results, backend);
  expect(text).toMatch(/\[warn\] gcloud login \(verify over IAP\)/);
  expect(text.replace(/\n\s+/g, " ")).toContain("3 warning(s) for `npm run verify` over IAP (they do not stop `up`)");
  expect(text).not.toContain("ya29.");

  // With gcloud logged in, its token is tested for the tunnel's permissions.
  const lacking = context(healthyScript(), healthyEnv, healthyFiles, { ...allGranted, "ya29.gcloud-login-token": ["compute.projects.get", "compute.instances.get"] });
  const second = await runChecks(lacking.ctx, "up");
  const perms = second.results.find((r) => r.name === "permissions (verify over IAP)")!;
  expect(perms.status).toBe("warn");
  expect(perms.detail).toMatch(/missing on project demo-project-1: iap\.tunnelInstances\.accessViaIAP \(gcloud login\);/);
  expect(perms.fix).toMatch(/roles\/iap\.tunnelResourceAccessor/);

  // Anything else not ok still stops `up`.
  expect(stopsOperation([...second.results, { name: "pulumi CLI", status: "missing", detail: "x" }])).toBe(true);
});

test("invalid stack config is reported by the same rules as the program", async () => {
  const script = healthyScript();
  script["pulumi config --json --stack dev"] = ok(
    JSON.stringify({ "gcp:project": { value: "demo-project-1" }, "gke-ingress-path:sshSourceRanges": { value: '["0.0.0.0/0"]', objectValue: ["0.0.0.0/0"] } }),
  );
  const { results } = await runChecks(context(script, healthyEnv, healthyFiles).ctx, "up");
  expect(results.find((r) => r.name === "stack config valid")).toMatchObject({ status: "missing", detail: expect.stringMatching(/sshSourceRanges = "0.0.0.0\/0": refused/) });
});

test("disabled APIs: the fix enables exactly the missing ones", async () => {
  const script = healthyScript();
  script["gcloud services list --enabled --project demo-project-1 --format=value(config.name)"] = ok("compute.googleapis.com\n");
  const { results } = await runChecks(context(script, healthyEnv, healthyFiles).ctx, "up");
  expect(results.find((r) => r.name === "Google APIs enabled")).toMatchObject({
    status: "missing",
    fix: "gcloud services enable container.googleapis.com iam.googleapis.com cloudresourcemanager.googleapis.com --project demo-project-1",
  });
});

test("destroy needs neither gcloud nor the API check", async () => {
  const script = healthyScript();
  delete script["gcloud --version"];
  const { ctx, calls } = context(script, healthyEnv, healthyFiles);
  const { results } = await runChecks(ctx, "destroy");
  expect(results.map((r) => r.name)).not.toContain("Google APIs enabled");
  expect(results.map((r) => r.name)).not.toContain("gcloud CLI");
  expect(results.every((r) => r.status === "ok")).toBe(true);
  expect(calls.some((c) => c.line.startsWith("gcloud"))).toBe(false);
});

describe("backend choice", () => {
  test("PULUMI_BACKEND_URL wins; Pulumi Cloud needs no passphrase", () => {
    const { ctx } = context({}, { PULUMI_BACKEND_URL: "https://api.pulumi.com" });
    expect(chooseBackend(ctx)).toEqual({ url: "https://api.pulumi.com", source: "PULUMI_BACKEND_URL", needsPassphrase: false });
    const s3 = context({}, { PULUMI_BACKEND_URL: "s3://bucket" }).ctx;
    expect(chooseBackend(s3).needsPassphrase).toBe(true);
  });

  test("an existing pulumi login is respected (no URL forced)", () => {
    const { ctx } = context({}, {}, { "/home/u/.pulumi/credentials.json": JSON.stringify({ current: "https://api.pulumi.com", accessTokens: {} }) });
    const backend = chooseBackend(ctx);
    expect(backend).toEqual({ url: undefined, source: "pulumi login", needsPassphrase: false });
    expect(pulumiEnv(ctx, backend).PULUMI_BACKEND_URL).toBeUndefined();
  });

  test("no login: the repo's .pulumi-state; pulumi runs without its own type-check", () => {
    const { ctx } = context({}, {}, { "/home/u/.pulumi/credentials.json": "not json" });
    const backend = chooseBackend(ctx);
    expect(backend.url).toBe("file:///repo/.pulumi-state");
    expect(pulumiEnv(ctx, backend)).toMatchObject({ PULUMI_BACKEND_URL: "file:///repo/.pulumi-state", PULUMI_NODEJS_TRANSPILE_ONLY: "true" });
  });
});

test("credentials and passphrase files that cannot be read are reported as such", async () => {
  const { ctx } = context(healthyScript(), { GOOGLE_APPLICATION_CREDENTIALS: "/nope.json", PULUMI_CONFIG_PASSPHRASE_FILE: "/nope.txt" }, {});
  const { results } = await runChecks(ctx, "up");
  expect(results.find((r) => r.name === "application-default credentials")?.detail).toMatch(/\/nope.json, which cannot be read/);
  expect(results.find((r) => r.name === "secrets passphrase")?.detail).toMatch(/\/nope.txt, which cannot be read/);
});

test("arguments: operation and pass-through pulumi flags", () => {
  expect(parseArgs([])).toEqual({ operation: "check", pulumiArgs: [] });
  expect(parseArgs(["up", "--", "--yes"])).toEqual({ operation: "up", pulumiArgs: ["--yes"] });
  expect(parseArgs(["destroy", "--", "--yes", "--skip-preview"])).toEqual({ operation: "destroy", pulumiArgs: ["--yes", "--skip-preview"] });
});

test("after destroy, also a failed one, the sweep is named with the project", () => {
  expect(destroyFollowUp(0, "demo-project-1")).toMatch(/^next: npm run sweep -- --project demo-project-1 /);
  // The usual failure (a VPC still used by what the Ingress controller left) is what the sweep finds.
  const failedHint = destroyFollowUp(255, "demo-project-1");
  expect(failedHint).toContain("exit 255");
  expect(failedHint).toContain("npm run sweep -- --project demo-project-1");
  expect(failedHint.replace(/\n\s+/g, " ")).toContain("npm run destroy again");
});

describe("npm run preflight -- --help", () => {
  test("prints the usage and checks nothing", () => {
    const out = execFileSync(process.execPath, [...cliArgs("scripts/preflight.ts"), "--help"], { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent" } });
    expect(out).toContain("npm run up [-- <flags>]");
    // with no PATH every check would fail; none ran
    expect(out).not.toContain("[FAIL]");
  }, 30_000);

  test("an unknown argument to the bare check is refused (exit 2, naming it), and no check runs", () => {
    const r = spawnSync(process.execPath, [...cliArgs("scripts/preflight.ts"), "--bogus"], { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/preflight: error: unknown option --bogus: the check takes none/);
    expect(r.stdout).not.toContain("[FAIL]");
  }, 30_000);
});
