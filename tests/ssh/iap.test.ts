// The IAP transport's plumbing with a stand-in `gcloud` on PATH (the real one is never called):
// the stand-in records its argv, the key file's mode and the known_hosts it was given, then runs
// the remote command locally with sh, the way the node's shell would. This checks the argv, the
// temporary files (0600, removed afterwards), one session per node and the output split. That
// OpenSSH accepts those ssh options is checked against a real sshd in collect.test.ts.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateClientKeyPair } from "../../lab/sshd";
import { collectNodes } from "../../verifier/sources/ssh";
import { silentProgress, type NodeTarget, type SshOptions } from "../../verifier/sources/types";

const FAKE_GCLOUD = `#!/bin/sh
# stand-in for gcloud compute ssh: log, check the key files, run --command locally
log="$GIPS_FAKE_GCLOUD_DIR/call.$$.log"
args=""
prev=""
for a in "$@"; do
  case "$prev" in -i) key="$a" ;; esac
  case "$a" in
    UserKnownHostsFile=*) known="\${a#UserKnownHostsFile=}" ;;
    --command=*) cmd="\${a#--command=}"; prev="$a"; continue ;;
  esac
  prev="$a"
  args="$args
ARG $a"
done
{
  echo "CALL$args"
  echo "KEYMODE $(stat -c %a "$key")"
  echo "KNOWN $(cat "$known")"
  echo "KEYDIR $(dirname "$key")"
} >> "$log"
if [ -n "$GIPS_FAKE_GCLOUD_FAIL" ]; then echo "Host key verification failed." >&2; exit 255; fi
exec sh -c "$cmd"
`;

describe("IAP transport through a stand-in gcloud", () => {
  const dir = mkdtempSync(join(tmpdir(), "gips-iap-"));
  const savedPath = process.env.PATH;
  const key = generateClientKeyPair("iap-test");
  // any well-formed OpenSSH public key line serves as the nodes' host key here
  const hostKey = generateClientKeyPair("host").publicKey;
  const opts: SshOptions = { user: "root", privateKey: key.privateKey, transport: "iap", project: "my-study-123", timeoutMs: 10_000 };
  const targets: NodeTarget[] = [
    { name: "gke-study-pool-aaaa", address: "203.0.113.10", zone: "us-central1-a", hostKeys: [hostKey] },
    { name: "gke-study-pool-bbbb", address: "203.0.113.11", zone: "us-central1-b", hostKeys: [hostKey] },
  ];

  beforeAll(() => {
    writeFileSync(join(dir, "gcloud"), FAKE_GCLOUD);
    chmodSync(join(dir, "gcloud"), 0o755);
    process.env.PATH = `${dir}:${savedPath}`;
    process.env.GIPS_FAKE_GCLOUD_DIR = dir;
    // Even if the stand-in were bypassed, a real gcloud would find no account here.
    process.env.CLOUDSDK_CONFIG = join(dir, "no-gcloud-config");
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    delete process.env.GIPS_FAKE_GCLOUD_DIR;
    delete process.env.CLOUDSDK_CONFIG;
    delete process.env.GIPS_FAKE_GCLOUD_FAIL;
    rmSync(dir, { recursive: true, force: true });
  });
  const callLogs = () => readdirSync(dir).filter((f) => f.startsWith("call.")).map((f) => readFileSync(join(dir, f), "utf8"));
  beforeEach(() => {
    for (const f of readdirSync(dir).filter((f) => f.startsWith("call."))) rmSync(join(dir, f));
  });

  test("one gcloud call per node; results split per command; key files private and removed", async () => {
    const result = await collectNodes(targets, opts, silentProgress);
    const calls = callLogs();
    const log = calls.join("");
    expect(calls).toHaveLength(2);
    for (const [i, target] of targets.entries()) {
      const call = calls.find((c) => c.includes(`ARG root@${target.name}\n`)) as string;
      expect(call).toContain(`ARG --zone=${target.zone}\n`);
      expect(call).toContain("ARG --project=my-study-123\nARG --tunnel-through-iap\nARG --plain\n");
      expect(call).toContain(`ARG HostKeyAlias=gip-node-${target.name}\nARG -o\nARG StrictHostKeyChecking=yes\n`);
      expect(call).toContain("KEYMODE 600\n");
      // ssh may accept exactly the node's keys, filed under its alias
      expect(call).toContain(`KNOWN gip-node-${target.name} ${hostKey.split(" ").slice(0, 2).join(" ")}\n`);
      const node = result.nodes[i]!;
      expect(node).toMatchObject({ name: target.name, transport: "iap", reachable: true, hostKeyVerified: true });
      // The command ran here, so these are this machine's facts, parsed like a node's.
      expect(node.addresses).toContainEqual({ ifname: "lo", address: "127.0.0.1", prefixLength: 8 });
      expect(Array.isArray(node.listeners)).toBe(true);
    }
    // The private key never appears in an argument, and its temp dir is gone.
    expect(log).not.toContain("OPENSSH PRIVATE KEY");
    const keyDir = /KEYDIR (\S+)/.exec(log)?.[1] as string;
    expect(keyDir).toMatch(/gip-ssh-/);
    expect(existsSync(keyDir)).toBe(false);
  });

  test("a refused host key: unreachable, not verified, with the do-not-override hint", async () => {
    process.env.GIPS_FAKE_GCLOUD_FAIL = "1";
    try {
      const result = await collectNodes(targets.slice(0, 1), opts, silentProgress);
      expect(result.nodes[0]).toMatchObject({ reachable: false, hostKeyVerified: false });
      expect(result.problems[0]?.message).toMatch(/gcloud compute ssh gke-study-pool-aaaa failed \(exit 255\): Host key verification failed/);
      expect(result.problems[0]?.hint).toMatch(/do not override/);
    } finally {
      delete process.env.GIPS_FAKE_GCLOUD_FAIL;
    }
  });

  test("a command's stderr survives the IAP session: a user without passwordless sudo gets the sudo hint", async () => {
    // A sudo that asks for a password, as `sudo -n` says when the user has none to skip it.
    const sudoDir = mkdtempSync(join(tmpdir(), "gips-iap-sudo-"));
    writeFileSync(join(sudoDir, "sudo"), "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n");
    chmodSync(join(sudoDir, "sudo"), 0o755);
    const before = process.env.PATH;
    process.env.PATH = `${sudoDir}:${before}`;
    try {
      const result = await collectNodes(targets.slice(0, 1), { ...opts, user: "pathcheck" }, silentProgress);
      expect(result.nodes[0]).toMatchObject({ reachable: true, hostKeyVerified: true });
      const nat = result.problems.find((p) => /nat table/.test(p.message));
      expect(nat?.message).toMatch(/sudo -n iptables-save: sudo: a password is required/);
      expect(nat?.hint).toMatch(/passwordless sudo/);
      const ss = result.problems.find((p) => /ss -Hltnp/.test(p.message));
      expect(ss?.message).toMatch(/exit 1\): sudo: a password is required/);
    } finally {
      process.env.PATH = before;
      rmSync(sudoDir, { recursive: true, force: true });
    }
  });

  test("a node without a zone is reported, the other is still read", async () => {
    const result = await collectNodes([{ ...targets[0]!, zone: undefined }, targets[1]!], opts, silentProgress);
    expect(result.nodes.map((n) => n.reachable)).toEqual([false, true]);
    expect(result.problems[0]?.subject).toBe("gke-study-pool-aaaa");
    expect(result.problems[0]?.message).toMatch(/zone ""/);
  });
});
