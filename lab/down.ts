// `lab down`: removes everything a lab with this prefix created, whether `lab up` finished or
// crashed half-way: recorded processes, then every namespace and root-namespace link found by the
// prefix, then the state dir. Then it looks again and reports anything still there.
import { processRunning, processesMentioning, rootLinks } from "./host";
import { deleteLink, deleteNamespace, killPid, listNamespaces, run } from "./netns";
import { readState, removeStateDir } from "./state";
import type { LabTopology } from "./topology";

export interface DownReport {
  stoppedPids: number[];
  removedNamespaces: string[];
  removedLinks: string[];
  /** what is still there after cleaning ("namespace gip-lab-lb"); empty = clean */
  leftovers: string[];
  /** what was checked, for the reader: "no namespace gip-lab-*", ... */
  checked: string[];
}

export async function labDown(t: LabTopology): Promise<DownReport> {
  const marker = `${t.stateDir}/`;
  const state = readState(t);
  const pids = new Set<number>(Object.values(state?.pids ?? {}));
  // Processes started with this lab's state dir on their command line (sshd -f <dir>/..., the pods'
  // --lab <dir>/, the LB's control socket), even if a crash kept them out of the state file.
  for (const p of processesMentioning(marker)) pids.add(p.pid);
  const stoppedPids = [...pids].filter(processRunning);
  await Promise.all(stoppedPids.map((pid) => killPid(pid, 1000)));

  const removedNamespaces = await listNamespaces(t.prefix);
  // deleteNamespace also stops any process still inside (by pid) before removing it.
  await Promise.all(removedNamespaces.map((ns) => deleteNamespace(ns)));

  // Deleting a namespace removes its veth ends and their root-namespace peers; what remains with
  // the prefix is the management bridge and any pair a crash left before it was moved.
  const removedLinks = (await rootLinks()).filter((name) => name.startsWith(t.prefix));
  for (const link of removedLinks) await deleteLink(link);

  removeStateDir(t);
  const { leftovers, checked } = await findLeftovers(t);
  return { stoppedPids, removedNamespaces, removedLinks, leftovers, checked };
}

/** Looks for anything of this lab: namespaces, links, processes, root-namespace rules naming its addresses. */
export async function findLeftovers(t: LabTopology): Promise<{ leftovers: string[]; checked: string[] }> {
  const leftovers: string[] = [];
  for (const ns of await listNamespaces(t.prefix)) leftovers.push(`namespace ${ns}`);
  for (const link of (await rootLinks()).filter((n) => n.startsWith(t.prefix))) leftovers.push(`link ${link}`);
  for (const p of processesMentioning(`${t.stateDir}/`).filter((p) => processRunning(p.pid))) {
    leftovers.push(`process ${p.pid} (${p.cmdline.slice(0, 80)})`);
  }
  // The lab writes rules only inside node namespaces; the root namespace's tables must not name its
  // block. Plain iptables-save (no -t) dumps the tables that exist without creating any.
  const block = `${t.net}.`;
  const save = await run("iptables-save", []).catch(() => ({ stdout: "" }));
  let table = "";
  for (const line of save.stdout.split("\n")) {
    if (line.startsWith("*")) table = line.slice(1).trim();
    else if (line.includes(block) || line.includes(t.prefix)) leftovers.push(`root ${table} rule: ${line.trim()}`);
  }
  const checked = [
    `namespaces named ${t.prefix}*`,
    `root-namespace links named ${t.prefix}*`,
    `processes started for ${t.stateDir}`,
    `root-namespace iptables rules naming ${t.net}.0.0/16 or ${t.prefix}`,
  ];
  return { leftovers, checked };
}
