// The nodes' SSH host keys: how a key line and a fingerprint are read, how the key a node offers is
// matched against them, and the second place they come from. The first is the guest attributes
// the guest agent publishes (gcp.ts fetchHostKeys); whether GKE's Ubuntu nodes publish them is not
// confirmed. The second is the serial console: at first boot cloud-init's keys-to-console step
// (cloud-init's tools/write-ssh-key-fingerprints, run through `logger --stderr -t ec2`, later
// `-t cloud-init`) prints two blocks there, which the Compute API returns with
// instances.getSerialPortOutput:
//
//   <14>Jan  6 15:27:31 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----
//   <14>Jan  6 15:27:31 cloud-init: 256 SHA256:BOyE...7WkQ root@vm1 (ED25519)
//   <14>Jan  6 15:27:32 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----
//   -----BEGIN SSH HOST KEY KEYS-----
//   ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... root@vm1
//   -----END SSH HOST KEY KEYS-----
//
// Older images print "ec2: " in front of each line (syslog's "Aug  9 04:57:16 host ec2: " when the
// log went through syslog), and OpenSSH before 6.8 printed MD5 fingerprints ("1024 f9:c4:...:ec
// root@host (DSA)"). A getty starting on the same console can cut a block with a terminal reset,
// and the serial buffer keeps only the most recent output: a block without its END marker is not
// used, and the result says why nothing was found. Pure: serial-console.ts reads the output.
import { createHash } from "node:crypto";

/** Where a node's accepted host key came from (NodeModel.hostKeySource). */
export type HostKeySource = "guest-attributes" | "serial-console" | "first-use";

export interface HostKey {
  type: string;
  /** base64 of the SSH wire-format key blob */
  blob: string;
}

/** "ssh-ed25519 AAAA... comment" -> {type, blob}; undefined when it isn't an OpenSSH public key line. */
export function parseHostKey(line: string): HostKey | undefined {
  const [type, blob] = line.trim().split(/\s+/);
  if (!type || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
  const inner = wireKeyType(Buffer.from(blob, "base64"));
  // The type is written both in front and inside the blob; a line where they differ is corrupt.
  return inner === type ? { type, blob } : undefined;
}

/** The key type written at the start of an SSH wire-format public key blob. */
export function wireKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/** OpenSSH's "SHA256:..." fingerprint of a key blob (base64 without padding, as ssh-keygen -l prints it). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The MD5 fingerprint OpenSSH printed before 6.8, as "MD5:aa:bb:...". */
export function md5Fingerprint(blob: Buffer): string {
  return `MD5:${createHash("md5").update(blob).digest("hex").replace(/(..)(?!$)/g, "$1:")}`;
}

const SHA256_FP = /^SHA256:[A-Za-z0-9+/]{43}$/;
const MD5_FP = /^(?:MD5:)?((?:[0-9a-f]{2}:){15}[0-9a-f]{2})$/i;

/**
 * A fingerprint as ssh-keygen prints it -> "SHA256:<43 base64>" or "MD5:<16 hex pairs>" (bare hex
 * pairs are MD5, as ssh-keygen printed them before 6.8); undefined when it is neither.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const t = text.trim().replace(/=+$/, "");
  if (SHA256_FP.test(t)) return t;
  const md5 = MD5_FP.exec(t);
  return md5 ? `MD5:${(md5[1] as string).toLowerCase()}` : undefined;
}

/** Whether a key blob has one of the given fingerprints (SHA256 or MD5, normalized). */
export function fingerprintMatches(blob: Buffer, fingerprints: string[]): boolean {
  if (fingerprints.length === 0) return false;
  const sha = fingerprint(blob);
  const md5 = md5Fingerprint(blob);
  return fingerprints.some((f) => f === sha || f === md5);
}

// ---------------------------------------------------------------- serial console (pure)

/** One line of the fingerprints block: "256 SHA256:... root@host (ED25519)". */
export interface ConsoleFingerprint {
  bits: number;
  /** normalized: "SHA256:..." or "MD5:..." */
  fingerprint: string;
  /** ssh-keygen's type label: ED25519, ECDSA, RSA, DSA, ... */
  label: string;
}

export interface ConsoleHostKeys {
  fingerprints: ConsoleFingerprint[];
  /** OpenSSH "type base64" lines from the keys block, each consistent with the fingerprints block */
  keys: string[];
  /** why something was left out or nothing was found; empty when every block read cleanly */
  warnings: string[];
}

const MARK = "SSH HOST KEY";
// ANSI escape sequences (colours, a getty's terminal reset "ESC c") and carriage returns.
// eslint-disable-next-line no-control-regex
const TERMINAL_NOISE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\x1bc|\r/g;
const FP_LINE = /(?:^|[\s:>\]])(\d{3,5}) (SHA256:[A-Za-z0-9+/]{43}|MD5:(?:[0-9a-f]{2}:){15}[0-9a-f]{2}|(?:[0-9a-f]{2}:){15}[0-9a-f]{2})(?:\s+.*)?\s+\(([A-Z0-9-]+)\)\s*$/i;
const KEY_LINE = /(?:^|[\s:>\]])((?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})(?:\s|$)/;

/** ssh-keygen's label for a key type (the fingerprints block names types this way). */
function labelOf(type: string): string {
  if (type === "ssh-ed25519") return "ED25519";
  if (type.startsWith("ecdsa-")) return "ECDSA";
  if (type === "ssh-rsa") return "RSA";
  if (type === "ssh-dss") return "DSA";
  if (type.startsWith("sk-ssh-ed25519")) return "ED25519-SK";
  if (type.startsWith("sk-ecdsa")) return "ECDSA-SK";
  return type.toUpperCase();
}

/** The lines between each complete BEGIN/END pair of `kind`; a BEGIN without END is a warning. */
function blocks(lines: string[], kind: "FINGERPRINTS" | "KEYS", warnings: string[]): string[][] {
  const begin = `-----BEGIN ${MARK} ${kind}-----`;
  const end = `-----END ${MARK} ${kind}-----`;
  const found: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.includes(begin)) {
      if (current) warnings.push(`a "${begin}" block has no END marker (cut on the console); not used`);
      current = [];
    } else if (line.includes(end)) {
      if (current) found.push(current);
      current = undefined;
    } else if (current) {
      current.push(line);
    }
  }
  if (current) warnings.push(`a "${begin}" block has no END marker (cut on the console, or still being written); not used`);
  return found;
}

/**
 * Reads the host keys a node printed on its serial console: the fingerprints block and the keys
 * block, from every complete pair of markers (a rebooted node prints them again), whatever sits in
 * front of each line (syslog header, "ec2: ", "<14>... cloud-init: ", a kernel timestamp). A key
 * from the keys block whose type the fingerprints block also lists, under another fingerprint, is
 * dropped with a warning. Never throws; unreadable lines inside a block are warnings.
 */
export function parseConsoleHostKeys(text: string): ConsoleHostKeys {
  const warnings: string[] = [];
  const lines = text.replace(TERMINAL_NOISE, "").split("\n");
  const fingerprints: ConsoleFingerprint[] = [];
  for (const block of blocks(lines, "FINGERPRINTS", warnings)) {
    for (const line of block) {
      const m = FP_LINE.exec(line);
      const normalized = m ? normalizeFingerprint(m[2] as string) : undefined;
      if (!m || !normalized) {
        if (/(SHA256|MD5):|([0-9a-f]{2}:){15}/i.test(line)) warnings.push(`fingerprints block: unreadable line "${line.trim().slice(0, 120)}"`);
        continue;
      }
      if (!fingerprints.some((f) => f.fingerprint === normalized)) fingerprints.push({ bits: Number(m[1]), fingerprint: normalized, label: (m[3] as string).toUpperCase() });
    }
  }
  const keys: string[] = [];
  for (const block of blocks(lines, "KEYS", warnings)) {
    for (const line of block) {
      const m = KEY_LINE.exec(line);
      const key = m ? parseHostKey(`${m[1]} ${m[2]}`) : undefined;
      if (!key) {
        if (line.trim() !== "") warnings.push(`keys block: not an OpenSSH public key line "${line.trim().slice(0, 120)}"`);
        continue;
      }
      const blob = Buffer.from(key.blob, "base64");
      const sameType = fingerprints.filter((f) => f.label === labelOf(key.type));
      if (sameType.length > 0 && !fingerprintMatches(blob, sameType.map((f) => f.fingerprint))) {
        warnings.push(`keys block: the ${key.type} key (${fingerprint(blob)}) is not the one the fingerprints block lists for ${labelOf(key.type)}; not used`);
        continue;
      }
      const keyLine = `${key.type} ${key.blob}`;
      if (!keys.includes(keyLine)) keys.push(keyLine);
    }
  }
  if (fingerprints.length === 0 && keys.length === 0 && warnings.length === 0) {
    warnings.push(`no "-----BEGIN ${MARK} FINGERPRINTS-----" or "-----BEGIN ${MARK} KEYS-----" block in the serial console output`);
  }
  return { fingerprints, keys, warnings };
}
