// Shared by the lab's root-only tests: whether this machine can run them, and a loud skip when not.
import { existsSync } from "node:fs";
import { findCommand } from "../../lab/netns";

const missing = ["ip", "ss", "iptables-save", "iptables-restore", "sshd", "ssh-keygen"].filter((c) => !findCommand(c));
const reasons = [
  ...(process.platform !== "linux" ? ["not Linux"] : []),
  ...(process.getuid?.() !== 0 ? ["not root"] : []),
  ...(!existsSync("/proc/self/ns/net") ? ["no network namespaces"] : []),
  ...(missing.length ? [`missing ${missing.join(", ")}`] : []),
];

export const canRunLab = reasons.length === 0;

/** `describe` when the lab can run here; otherwise a skipped describe and a warning nobody can miss. */
export function describeLab(title: string, body: () => void): void {
  if (canRunLab) {
    describe(title, body);
    return;
  }
  console.warn(`SKIPPED "${title}": ${reasons.join(", ")}. These tests build network namespaces and need root (CI runs them as root).`);
  describe.skip(title, body);
}
