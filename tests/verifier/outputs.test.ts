// Stack outputs: every missing or invalid key reported at once, secrets never echoed.
import { mkdtempSync, writeFileSync, chmodSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError, readStackOutputs, redactSecrets, validateStackOutputs } from "../../verifier/outputs";
import { validOutputs } from "./fixtures/outputs";

const MARK = "SECRETMARKER-7f3a";

describe("validateStackOutputs", () => {
  test("accepts the program's outputs (numeric strings become numbers)", () => {
    const { outputs, problems } = validateStackOutputs({ ...validOutputs(), nodePort: "31846", extra: 1 });
    expect(problems).toEqual([]);
    expect(outputs!.nodePort).toBe(31846);
    expect(outputs!.serviceClusterIp).toBe("10.12.5.140");
  });

  test("lists every missing and invalid key, naming each", () => {
    const raw: Record<string, unknown> = { ...validOutputs(), servicePort: 70000, loadBalancerIp: "not-an-ip", url: "ftp://x", sshPrivateKey: `${MARK} not a key` };
    delete raw.nodePort;
    delete raw.ingressName;
    const { outputs, problems } = validateStackOutputs(raw);
    expect(outputs).toBeUndefined();
    const text = problems.join("\n");
    for (const key of ["nodePort: missing", "ingressName: missing", "servicePort: must be a port number 1..65535, got 70000", "loadBalancerIp: must be an IP address", "url: must be http:// or https://", "sshPrivateKey: not a PEM"]) {
      expect(text).toContain(key);
    }
    expect(problems).toHaveLength(6);
    expect(text).not.toContain(MARK);
  });

  test("a secret saved without --show-secrets gets the fix, and its value is never shown", () => {
    const { problems } = validateStackOutputs({ ...validOutputs(), kubeconfig: "[secret]", sshPrivateKey: 42 });
    expect(problems.join("\n")).toContain("kubeconfig: is \"[secret]\": read the outputs with --show-secrets");
    expect(problems.join("\n")).toContain("sshPrivateKey: must be a non-empty string, got (secret, not shown)");
  });

  test("not an object", () => {
    expect(validateStackOutputs([1, 2]).problems[0]).toContain("not a JSON object");
  });
});

describe("readStackOutputs", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "verify-outputs-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("from a file", async () => {
    const file = join(dir, "ok.json");
    writeFileSync(file, JSON.stringify(validOutputs()));
    expect((await readStackOutputs({ file })).clusterName).toBe("ingress-path");
  });

  test("a missing file or non-JSON says how to make one, without quoting the content", async () => {
    await expect(readStackOutputs({ file: join(dir, "nope.json") })).rejects.toThrow(/ENOENT.*pulumi stack output --json --show-secrets/);
    const file = join(dir, "bad.json");
    writeFileSync(file, `{"kubeconfig": "${MARK}" oops}`);
    const err = (await readStackOutputs({ file }).catch((e: unknown) => e)) as InputError;
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain("not JSON");
    expect(err.message).not.toContain(MARK);
  });

  test("runs pulumi with --json --show-secrets and --stack", async () => {
    const fake = join(dir, "pulumi");
    writeFileSync(join(dir, "out.json"), JSON.stringify(validOutputs()));
    writeFileSync(fake, `#!/bin/sh\necho "$@" > "${dir}/args.txt"\ncat "${dir}/out.json"\n`);
    chmodSync(fake, 0o755);
    const outputs = await readStackOutputs({ stack: "dev", pulumiCommand: fake });
    expect(outputs.project).toBe("ingress-path-study");
    expect(readFileSync(join(dir, "args.txt"), "utf8").trim()).toBe("stack output --json --show-secrets --stack dev");
  });

  test("pulumi failing or missing gives the reason and the ways out", async () => {
    const failing = join(dir, "pulumi-fail");
    writeFileSync(failing, `#!/bin/sh\necho "error: no stack named 'dev' found" >&2\nexit 255\n`);
    chmodSync(failing, 0o755);
    await expect(readStackOutputs({ stack: "dev", pulumiCommand: failing })).rejects.toThrow(/no stack named 'dev' found.*--stack NAME.*--outputs FILE/);
    await expect(readStackOutputs({ pulumiCommand: join(dir, "no-such-pulumi") })).rejects.toThrow(/is not on PATH.*--outputs FILE/);
  });
});

test("redactSecrets removes the outputs' secret values and any private key block", () => {
  const o = validOutputs();
  const text = `kube: ${o.kubeconfig} key: ${o.sshPrivateKey} other: -----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----`;
  const red = redactSecrets(text, o);
  expect(red).not.toContain("certificate-authority-data");
  expect(red).not.toContain("b3BlbnNzaC1rZXktdjEAAAAA");
  expect(red).not.toContain("abc");
  expect(red).toContain("[kubeconfig redacted]");
});
