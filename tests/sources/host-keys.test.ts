// The serial console as a second source of the nodes' SSH host keys: the parser on text made by
// the real tools (ssh-keygen -l, logger --stderr, as cloud-init's keys-to-console step prints it),
// in each shape seen on real consoles, and fetchConsoleHostKeys against the Compute stand-in's
// instances.getSerialPortOutput path.
import type { Problem } from "../../verifier/model";
import {
  fingerprint,
  fingerprintMatches,
  md5Fingerprint,
  normalizeFingerprint,
  parseConsoleHostKeys,
} from "../../verifier/sources/host-keys";
import { fetchConsoleHostKeys } from "../../verifier/sources/serial-console";
import { silentProgress } from "../../verifier/sources/types";
import { startComputeStandin, type ComputeStandin } from "../support/rest-standins/compute";
import { buildWorld } from "../support/rest-standins/world";
import { firstBootConsole, newHostPublicKey } from "../support/serial-console";

const blob = (line: string) => Buffer.from(line.split(/\s+/)[1] as string, "base64");
const ed25519 = newHostPublicKey("ed25519");
const ecdsa = newHostPublicKey("ecdsa");
const rsa = newHostPublicKey("rsa");
const nodeKeys = [ecdsa, ed25519, rsa];
const keyLine = (line: string) => line.split(/\s+/).slice(0, 2).join(" ");

describe("parseConsoleHostKeys on first-boot consoles", () => {
  test("cloud-init today: '<14>... cloud-init:' fingerprints (SHA256), plain keys block, CRLF and colour codes around", () => {
    const parsed = parseConsoleHostKeys(firstBootConsole(nodeKeys));
    expect(parsed.warnings).toEqual([]);
    expect(parsed.fingerprints.map((f) => [f.label, f.fingerprint])).toEqual([
      ["ECDSA", fingerprint(blob(ecdsa))],
      ["ED25519", fingerprint(blob(ed25519))],
      ["RSA", fingerprint(blob(rsa))],
    ]);
    expect(parsed.fingerprints.map((f) => f.bits)).toEqual([256, 256, 2048]);
    expect(parsed.keys).toEqual(nodeKeys.map(keyLine));
  });

  test("older images: 'ec2:' tag, MD5 hex fingerprints (OpenSSH < 6.8), keys block through logger too", () => {
    const parsed = parseConsoleHostKeys(firstBootConsole([ecdsa, ed25519], { tag: "ec2", hash: "md5", keysThroughLogger: true }));
    expect(parsed.warnings).toEqual([]);
    expect(parsed.fingerprints.map((f) => f.fingerprint)).toEqual([md5Fingerprint(blob(ecdsa)), md5Fingerprint(blob(ed25519))]);
    expect(parsed.fingerprints[0]?.fingerprint).toMatch(/^MD5:([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(parsed.keys).toEqual([ecdsa, ed25519].map(keyLine));
  });

  test("a syslog copy ('Aug  9 04:57:16 host ec2: ...') and fingerprints only (emit_keys_to_console off)", () => {
    const console = firstBootConsole([ed25519], { noKeysBlock: true })
      .split("\n")
      .map((l) => l.replace(/^<14>(\w{3} [ \d]\d \d\d:\d\d:\d\d) cloud-init:/, "$1 gke-study-pool-aaaa ec2:"))
      .join("\n");
    expect(console).toMatch(/gke-study-pool-aaaa ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----/);
    const parsed = parseConsoleHostKeys(console);
    expect(parsed.keys).toEqual([]);
    expect(parsed.fingerprints.map((f) => f.fingerprint)).toEqual([fingerprint(blob(ed25519))]);
  });

  test("a block cut by a getty's terminal reset is not used, and says so", () => {
    const whole = firstBootConsole([ed25519], { noKeysBlock: true });
    const cut = whole.replace(/<14>[^\n]*-----END SSH HOST KEY FINGERPRINTS-----[\s\S]*$/, "<14>Dec  1 03:00:00 cloud-init: ###\x1bc[   15.0] cloud-init[530]: Cloud-init v. 24.4\n");
    const parsed = parseConsoleHostKeys(cut);
    expect(parsed.fingerprints).toEqual([]);
    expect(parsed.warnings.join("\n")).toMatch(/BEGIN SSH HOST KEY FINGERPRINTS-----" block has no END marker/);
  });

  test("a keys-block key that contradicts the fingerprints block is dropped with a warning; the fingerprints stay", () => {
    const other = newHostPublicKey("ed25519");
    const fingerprintsOnly = firstBootConsole([ed25519], { noKeysBlock: true });
    const console = `${fingerprintsOnly}-----BEGIN SSH HOST KEY KEYS-----\n${other} root@x\n${ecdsa} root@x\n-----END SSH HOST KEY KEYS-----\n`;
    const parsed = parseConsoleHostKeys(console);
    expect(parsed.fingerprints.map((f) => f.fingerprint)).toEqual([fingerprint(blob(ed25519))]);
    // The ECDSA key has no fingerprint listed for its type: kept (the two blocks' exclusion lists may differ).
    expect(parsed.keys).toEqual([keyLine(ecdsa)]);
    expect(parsed.warnings.join("\n")).toMatch(new RegExp(`ssh-ed25519 key \\(${fingerprint(blob(other)).replace(/[+/]/g, "\\$&")}\\) is not the one`));
  });

  test("no block at all: nothing, with a warning naming the markers; junk inside a block is a warning, not a key", () => {
    expect(parseConsoleHostKeys("[    0.0] Linux version 6.8\nlogin: ")).toEqual({
      fingerprints: [],
      keys: [],
      warnings: ['no "-----BEGIN SSH HOST KEY FINGERPRINTS-----" or "-----BEGIN SSH HOST KEY KEYS-----" block in the serial console output'],
    });
    const junk = parseConsoleHostKeys("-----BEGIN SSH HOST KEY KEYS-----\nssh-ed25519 AAAAnotakey root@x\n-----END SSH HOST KEY KEYS-----\n");
    expect(junk.keys).toEqual([]);
    expect(junk.warnings[0]).toMatch(/not an OpenSSH public key line/);
  });
});

describe("fingerprints", () => {
  test("normalized forms; matching against a key blob by SHA256 or MD5", () => {
    const sha = fingerprint(blob(ed25519));
    const md5 = md5Fingerprint(blob(ed25519));
    expect(normalizeFingerprint(sha)).toBe(sha);
    expect(normalizeFingerprint(md5.slice(4).toUpperCase())).toBe(md5);
    expect(normalizeFingerprint("SHA256:short")).toBeUndefined();
    expect(fingerprintMatches(blob(ed25519), [sha])).toBe(true);
    expect(fingerprintMatches(blob(ed25519), [md5])).toBe(true);
    expect(fingerprintMatches(blob(ecdsa), [sha, md5])).toBe(false);
    expect(fingerprintMatches(blob(ed25519), [])).toBe(false);
  });
});

describe("fetchConsoleHostKeys through instances.getSerialPortOutput", () => {
  let standin: ComputeStandin | undefined;
  afterEach(async () => {
    await standin?.close();
    standin = undefined;
  });

  test("keys from one node; a node whose first boot fell out of the buffer and a node the caller may not read are Problems", async () => {
    const world = buildWorld();
    const [a, b, c] = world.nodeNames as [string, string, string];
    world.compute.serialPorts = {
      [a]: { contents: firstBootConsole([ed25519, ecdsa]) },
      [b]: { contents: "[ 9000.1] systemd-journald[321]: Data hash table of /run/log/journal is full\n", droppedBytes: 1_048_576 },
    };
    standin = await startComputeStandin(world.compute, { token: world.token });
    const problems: Problem[] = [];
    const found = await fetchConsoleHostKeys(
      world.project,
      [a, b, c].map((name) => ({ name, zone: world.zone })),
      { rootUrl: `${standin.url}/`, accessToken: world.token, progress: silentProgress, problems, retry: { retries: 0, initialDelayMs: 1, maxDelayMs: 1 } },
    );
    expect([...found.keys()]).toEqual([a]);
    expect(found.get(a)?.keys).toEqual([ed25519, ecdsa].map(keyLine));
    expect(found.get(a)?.fingerprints.map((f) => f.fingerprint)).toEqual([fingerprint(blob(ed25519)), fingerprint(blob(ecdsa))]);
    const serialReads = standin.requests.filter((r) => r.path.endsWith("/serialPort"));
    expect(serialReads).toHaveLength(3);
    expect(serialReads.every((r) => r.query.get("port") === "1" && r.query.get("start") === "0")).toBe(true);
    const bProblem = problems.find((p) => p.subject === b);
    expect(bProblem?.message).toMatch(/printed no SSH host keys on its serial console .*starts at byte 1048576/);
    const cProblem = problems.find((p) => p.subject === c);
    expect(cProblem?.message).toMatch(/printed no SSH host keys/);
    expect(cProblem?.hint).toMatch(/get-serial-port-output/);
  });

  test("without the permission: a Problem with the permission and the gcloud command, other nodes unaffected", async () => {
    const world = buildWorld();
    const [a] = world.nodeNames as [string];
    world.compute.serialPorts = { [a]: { contents: firstBootConsole([ed25519]) } };
    standin = await startComputeStandin(world.compute, { token: world.token, deniedPermissions: ["compute.instances.getSerialPortOutput"] });
    const problems: Problem[] = [];
    const found = await fetchConsoleHostKeys(world.project, [{ name: a, zone: world.zone }], {
      rootUrl: `${standin.url}/`,
      accessToken: world.token,
      progress: silentProgress,
      problems,
      retry: { retries: 0, initialDelayMs: 1, maxDelayMs: 1 },
    });
    expect(found.size).toBe(0);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/serial console of/);
    expect(problems[0]?.hint).toMatch(/compute\.instances\.getSerialPortOutput/);
  });
});
