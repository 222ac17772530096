// Test nodes for the SSH source: each node is a network namespace reached from the root namespace
// over its own veth /30, optionally running sshd and holding kube-proxy nat rules. Only addresses
// on those veths are ever used, so no test traffic can leave through the host's own interfaces.
import { mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import {
  addDelay,
  createNamespace,
  createVeth,
  deleteLink,
  deleteNamespace,
  execInNamespace,
  linkAddresses,
  listNamespaces,
} from "../../lab/netns";
import { startSshd, type SshdInstance } from "../../lab/sshd";

/** Tools the SSH tests need beyond the common ones (tests/support/namespaces.ts). */
export const sshTestCommands = ["sshd", "ssh-keygen", "iptables-legacy-restore"];

export interface NodeSpec {
  /** short, [a-z0-9]; namespace is `${prefix}${name}` */
  name: string;
  sshd: boolean;
  /** iptables-restore input for the nat table */
  natRules?: string;
  /** load natRules with iptables-legacy-restore instead of the default backend */
  legacy?: boolean;
  /** one-way delay added on both ends of the veth (tc netem), when the kernel has netem */
  delayMs?: number;
}

export interface TestNode {
  name: string;
  namespace: string;
  rootIfname: string;
  /** the node's own address (sshd listens here) */
  nodeIp: string;
  prefixLength: number;
  sshd?: SshdInstance;
  /** whether tc netem delay is in place */
  delayed: boolean;
}

export class NodeLab {
  readonly nodes: TestNode[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), "gips-nodes-"));

  /** prefix: unique per test file, starting with "gips-"; range: a private /16 kept for these tests */
  constructor(
    readonly prefix: string,
    readonly range: string,
  ) {
    if (!prefix.startsWith("gips-")) throw new Error(`test namespace prefix "${prefix}" must start with "gips-"`);
  }

  async add(spec: NodeSpec, authorizedKey: string): Promise<TestNode> {
    const index = this.nodes.length;
    const namespace = `${this.prefix}${spec.name}`;
    // Root-side names must fit in 15 characters and be unique: prefix without "gips-" + index.
    const rootIfname = `gips${this.prefix.slice(5, 10).replace(/-/g, "")}${index}`;
    const link = linkAddresses(this.range, index);
    const node: TestNode = {
      name: spec.name,
      namespace,
      rootIfname,
      nodeIp: link.b.split("/")[0] as string,
      prefixLength: 30,
      delayed: false,
    };
    this.nodes.push(node);
    await createNamespace(namespace);
    await createVeth({ ifname: rootIfname, address: link.a }, { namespace, ifname: "eth0", address: link.b });
    if (spec.delayMs) {
      node.delayed = (await addDelay(undefined, rootIfname, spec.delayMs)) && (await addDelay(namespace, "eth0", spec.delayMs));
    }
    if (spec.natRules) {
      await execInNamespace(namespace, [spec.legacy ? "iptables-legacy-restore" : "iptables-restore"], { input: spec.natRules });
    }
    if (spec.sshd) {
      node.sshd = await startSshd({
        namespace,
        listenAddress: node.nodeIp,
        dir: join(this.dir, spec.name),
        authorizedKeys: [authorizedKey],
        // Sessions log in as the current user (root); its dotfiles on this machine are not a node's.
        hideHome: homedir(),
      });
    }
    return node;
  }

  /** Stops every sshd, deletes every namespace and root-side link; safe to call after a partial setup. */
  async destroy(): Promise<void> {
    const errors: unknown[] = [];
    for (const node of this.nodes) {
      await node.sshd?.stop().catch((e) => errors.push(e));
      await deleteLink(node.rootIfname).catch((e) => errors.push(e));
    }
    for (const ns of await listNamespaces(this.prefix)) await deleteNamespace(ns).catch((e) => errors.push(e));
    rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new Error(`cleanup of ${this.prefix}*: ${errors.map(String).join("; ")}`);
  }
}
