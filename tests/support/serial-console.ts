// Serial console text as a node prints it at first boot, made by the real tools: the fingerprint
// lines by `ssh-keygen -l -f <key>.pub` and the prefix by util-linux `logger --stderr -t <tag>`,
// which is how cloud-init's keys-to-console step (tools/write-ssh-key-fingerprints) writes them.
// `--socket-errors=off` only because this machine runs no syslog; the text logger prints is the same.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ConsoleOptions {
  /** logger tag: "cloud-init" (cloud-init >= 20.x), "ec2" (older) */
  tag?: string;
  /** fingerprint hash ssh-keygen prints: sha256 (OpenSSH >= 6.8) or md5 (older, bare hex pairs) */
  hash?: "sha256" | "md5";
  /** whether the keys block goes through logger too (older script) or straight to the console */
  keysThroughLogger?: boolean;
  /** leave the keys block out (cloud-init's emit_keys_to_console: false) */
  noKeysBlock?: boolean;
}

/** The two blocks for the given OpenSSH public key lines, with the boot noise around them. */
export function firstBootConsole(publicKeys: string[], opts: ConsoleOptions = {}): string {
  const tag = opts.tag ?? "cloud-init";
  const dir = mkdtempSync(join(tmpdir(), "gips-console-"));
  try {
    // logger's copy of each line goes to its stderr: keep that, drop its stdout.
    const loggerStderr = (text: string) =>
      execFileSync("sh", ["-c", `logger --socket-errors=off --stderr -p user.info -t "$1" 2>&1 >/dev/null`, "sh", tag], { input: text }).toString();
    const fingerprintLines = publicKeys.map((key, i) => {
      const file = join(dir, `ssh_host_${i}_key.pub`);
      writeFileSync(file, `${key.trim()} root@gke-node\n`);
      const line = execFileSync("ssh-keygen", ["-l", "-E", opts.hash ?? "sha256", "-f", file]).toString().trim();
      // OpenSSH before 6.8 printed MD5 as bare hex pairs followed by two spaces.
      return opts.hash === "md5" ? line.replace(/ MD5:(\S+) /, " $1  ") : line;
    });
    const fingerprintsBlock = ["", "#".repeat(61), "-----BEGIN SSH HOST KEY FINGERPRINTS-----", ...fingerprintLines, "-----END SSH HOST KEY FINGERPRINTS-----", "#".repeat(61), ""].join("\n");
    const keysBlock = ["-----BEGIN SSH HOST KEY KEYS-----", ...publicKeys.map((k) => `${k.trim()} root@gke-node`), "-----END SSH HOST KEY KEYS-----", ""].join("\n");
    return [
      "[    0.000000] Linux version 6.8.0-1015-gke (buildd@lcy02-amd64-062) #19-Ubuntu SMP",
      "[   18.201934] cloud-init[1541]: Cloud-init v. 24.4-0ubuntu1~24.04.1 running 'modules:final' at Tue, 01 Dec 2026 03:00:00 +0000. Up 18.10 seconds.",
      "\x1b[0;32m  OK  \x1b[0m] Started google-guest-agent.service - Google Compute Engine Guest Agent.",
      loggerStderr(fingerprintsBlock).trimEnd(),
      ...(opts.noKeysBlock ? [] : [opts.keysThroughLogger ? loggerStderr(keysBlock).trimEnd() : keysBlock.trimEnd()]),
      "[   19.020114] cloud-init[1541]: Cloud-init v. 24.4-0ubuntu1~24.04.1 finished at Tue, 01 Dec 2026 03:00:01 +0000. Datasource DataSourceGCELocal.  Up 19.01 seconds",
      "",
    ].join("\r\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh host key pair's public line ("ssh-ed25519 AAAA..."), made by ssh-keygen. */
export function newHostPublicKey(type: "ed25519" | "ecdsa" | "rsa"): string {
  const dir = mkdtempSync(join(tmpdir(), "gips-hostkey-"));
  try {
    const file = join(dir, "key");
    execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "", "-f", file]);
    return execFileSync("cat", [`${file}.pub`]).toString().trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
