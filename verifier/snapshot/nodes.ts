// Node outputs saved under nodes/<node>/ read exactly as the SSH source reads live ones: the same
// nat-dump choice (chooseNatDump over the same candidates), the same `ip -o addr` and `ss` parsers
// (sources/node-outputs.ts).
// And the reverse for `npm run snapshot`: a node the SSH source read, written back as those files.
import type { NodeModel, Problem } from "../model";
import { chooseNatDump, natCandidates, parseIpAddr, parseSsListeners, type CommandResult } from "../sources/node-outputs";
import { reduceDump, type ServiceFocus } from "../sources/node-reduce";
import type { NodeTarget } from "../sources/types";
import { NODE_FILES, type NodeFileName, type SnapshotFolder } from "./folder";

/** nat candidate command (as natCandidates names it for root) -> the file holding its output. */
const NAT_FILE: Record<string, NodeFileName> = {
  "iptables-save": "iptables-save.txt",
  "iptables-legacy-save": "iptables-legacy-save.txt",
  "iptables-nft-save": "iptables-nft-save.txt",
  "nft list table ip kube-proxy": "nft-list-table-ip-kube-proxy.txt",
};

/** How the claims refer to a node whose files are not in the folder (Problem.brief). */
export const NO_NODE_FILES = "no node files in the folder (the problems name the files and the commands that save them)";

/** The commands that would save a node's files, for a hint (IAP, the user's own gcloud login). */
export function nodeFileCommands(node: string, zone: string | undefined, project: string | undefined, dir = "DIR"): string[] {
  const where = `${zone ? ` --zone ${zone}` : ""}${project ? ` --project ${project}` : ""}`;
  const files: NodeFileName[] = ["iptables-save.txt", "ip-o-addr-show.txt", "ss-Hltnp.txt"];
  return [`mkdir -p ${dir}/nodes/${node}`, ...files.map((f) => `gcloud compute ssh ${node}${where} --tunnel-through-iap --command '${NODE_FILES[f]}' > ${dir}/nodes/${node}/${f}`)];
}

/**
 * The command that saves a node's files for this folder: `npm run snapshot` again when the folder
 * came from the program's stack (its key reads every node over SSH), else the gcloud commands into
 * the folder itself (`npm run snapshot -- --ingress` opens no SSH session).
 */
export function saveNodeFilesCommand(folder: SnapshotFolder, node: string, zone: string | undefined, project: string | undefined): string {
  if (folder.meta?.source === "stack") return `npm run snapshot -- --out ${folder.dir.replace(/\/+$/, "")}-nodes (in the stack's directory, without --no-ssh; --transport direct if IAP is closed to you)`;
  return nodeFileCommands(node, zone, project, folder.dir).join(" && ");
}

/**
 * Each target's NodeModel from its files. A node with no files is not reachable, with a Problem
 * naming the files and the commands that would make them; a missing file is its own Problem.
 */
export function nodesFromFolder(folder: SnapshotFolder, targets: NodeTarget[], project: string | undefined, focus?: ServiceFocus): { nodes: NodeModel[]; problems: Problem[] } {
  const nodes: NodeModel[] = [];
  const problems: Problem[] = [];
  for (const target of targets) {
    const node: NodeModel = { name: target.name, transport: "snapshot", reachable: false };
    if (target.internalIp) node.internalIp = target.internalIp;
    if (target.externalIp) node.externalIp = target.externalIp;
    const files = folder.nodes.get(target.name);
    if (!files || files.size === 0) {
      problems.push({
        source: "snapshot",
        subject: target.name,
        message: `no node files for ${target.name} in the folder (nodes/${target.name}/iptables-save.txt, ip-o-addr-show.txt, ss-Hltnp.txt)`,
        hint: `save them: ${saveNodeFilesCommand(folder, target.name, target.zone, project)}`,
        brief: NO_NODE_FILES,
      });
      nodes.push(node);
      continue;
    }
    node.reachable = true;
    const candidates = natCandidates("root", false);
    const results: CommandResult[] = candidates.map((c) => {
      const text = readNodeFile(files, NAT_FILE[c.command]!, target.name, problems);
      return text === undefined ? { code: null, stdout: "", stderr: `no file nodes/${target.name}/${NAT_FILE[c.command]}` } : { code: 0, stdout: text, stderr: "" };
    });
    const choice = chooseNatDump(candidates, results);
    if (choice.dump && focus) choice.dump = reduceDump(choice.dump, focus);
    if (choice.dump) node.nat = { ...choice.dump, command: `nodes/${target.name}/${NAT_FILE[choice.dump.command]} (${choice.dump.command})` };
    if (choice.problem) problems.push({ ...choice.problem, source: "snapshot", subject: target.name, hint: `${choice.problem.hint ?? ""}; the snapshot's nat dump goes in nodes/${target.name}/iptables-save.txt` });
    const addr = readNodeFile(files, "ip-o-addr-show.txt", target.name, problems);
    if (addr !== undefined) node.addresses = parseIpAddr(addr);
    else problems.push({ source: "snapshot", subject: target.name, message: `nodes/${target.name}/ip-o-addr-show.txt is not in the folder`, hint: nodeFileCommands(target.name, target.zone, project, folder.dir)[2] });
    const ss = readNodeFile(files, "ss-Hltnp.txt", target.name, problems);
    if (ss !== undefined) node.listeners = parseSsListeners(ss);
    else problems.push({ source: "snapshot", subject: target.name, message: `nodes/${target.name}/ss-Hltnp.txt is not in the folder`, hint: nodeFileCommands(target.name, target.zone, project, folder.dir)[3] });
    nodes.push(node);
  }
  return { nodes, problems };
}

/** One node file's text; undefined when absent, or unreadable (then a Problem says why). */
function readNodeFile(files: Map<string, () => string>, name: string, node: string, problems: Problem[]): string | undefined {
  const reader = files.get(name);
  if (!reader) return undefined;
  try {
    return reader();
  } catch (error) {
    problems.push({ source: "snapshot", subject: node, message: `cannot read nodes/${node}/${name}: ${(error as Error).message}`, hint: "check the file's permissions, or save it again" });
    return undefined;
  }
}

/** A node the SSH source read, as the files nodesFromFolder reads back (name -> text). */
export function nodeFiles(node: NodeModel): Map<NodeFileName, string> {
  const files = new Map<NodeFileName, string>();
  if (node.nat) {
    const bare = node.nat.command.replace(/^sudo -n /, "").replace(/ -c$/, "");
    const name = NAT_FILE[bare] ?? "iptables-save.txt";
    files.set(name, node.nat.text);
  }
  // Written in the commands' own formats, so the same parsers read them back.
  if (node.addresses) {
    files.set("ip-o-addr-show.txt", node.addresses.map((a, i) => `${i + 1}: ${a.ifname}    ${a.address.includes(":") ? "inet6" : "inet"} ${a.address}/${a.prefixLength} scope global ${a.ifname}`).join("\n") + "\n");
  }
  if (node.listeners) {
    files.set("ss-Hltnp.txt", node.listeners.map((l) => `LISTEN 0      4096   ${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}   0.0.0.0:*${l.process ? ` users:(("${l.process}",pid=1,fd=3))` : ""}`).join("\n") + "\n");
  }
  return files;
}
