// Tests that build network namespaces (veth, iptables, sshd) need Linux, root and a few tools.
// One place decides whether they can run; when they cannot, they skip with a warning nobody can
// miss (CI runs them as root).
//
// Address ranges are per test file so that files running in parallel never share a route:
//   10.213 lab default (npm run lab) | 10.214 tests/ssh | 10.215, 10.216 tests/lab/lab-broken
//   10.217 bench/lab-cycle | 10.218 tests/e2e | 10.219 tests/lab/lab-e2e
//   10.241 tests/lab/lab-faults-pod | 10.242 tests/lab/lab-faults-node
//   10.223 tests/lab/lab-walk | 10.247 tests/lab/lab-neg (the NEG lab)
//   10.248 tests/lab/lab-nodes (lab up --nodes 6) | 10.249 bench/lab-fanout (50 nodes)
//   10.246 tests/lab/lab-fanout-report (12 nodes) | 10.245 tests/lab/lab-verify-json
import { existsSync } from "node:fs";
import { findCommand } from "../../lab/netns";

const baseCommands = ["ip", "ss", "iptables-save", "iptables-restore"];

/** Why namespace tests cannot run here, or undefined when they can. */
export function namespaceTestsUnavailable(extraCommands: string[] = []): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root (network namespaces, veth and iptables need root)";
  if (!existsSync("/proc/self/ns/net")) return "no network namespace support";
  const missing = [...baseCommands, ...extraCommands].filter((c) => !findCommand(c));
  if (missing.length > 0) return `missing ${missing.join(", ")} (apt-get install -y iproute2 iptables openssh-server openssh-client)`;
  return undefined;
}

/** `describe` when namespace tests can run here; otherwise a skipped describe and a loud warning. */
export function describeWithNamespaces(title: string, body: () => void, extraCommands: string[] = []): void {
  const reason = namespaceTestsUnavailable(extraCommands);
  if (reason === undefined) {
    describe(title, body);
    return;
  }
  console.warn(`SKIPPED "${title}": ${reason}. CI runs these tests as root.`);
  describe.skip(title, body);
}
