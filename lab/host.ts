// What the root namespace holds that the lab must respect: its addresses and routes (the lab's
// ranges must not collide with them) and its links (the lab's own carry the lab's prefix).
import { readdirSync, readFileSync } from "node:fs";
import { cidrsOverlap, run } from "./netns";

/** Root-namespace link names, without the "@peer" suffix. */
export async function rootLinks(): Promise<string[]> {
  const { stdout } = await run("ip", ["-o", "link", "show"]);
  return stdout
    .split("\n")
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** Root-namespace IPv4 route destinations as CIDRs ("default" skipped: it overlaps everything). */
async function rootRouteCidrs(): Promise<{ cidr: string; line: string }[]> {
  const { stdout } = await run("ip", ["-4", "route", "show", "table", "all"]);
  const routes: { cidr: string; line: string }[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(?:(?:local|broadcast|unicast)\s+)?(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s/.exec(line.trim());
    if (m) routes.push({ cidr: m[1].includes("/") ? m[1] : `${m[1]}/32`, line: line.trim() });
  }
  return routes;
}

/**
 * Every way the lab's CIDRs collide with the host: an address it holds or a route it has.
 * `ownLinks` (the lab's own bridge) are ignored, so a second `lab up` does not trip on the first.
 */
export async function hostCollisions(labCidrs: string[], ownLinks: string[]): Promise<string[]> {
  const collisions: string[] = [];
  const onOwnLink = (line: string) => ownLinks.some((link) => line.split(/\s+/).includes(link));
  // Lines look like "4: eth0    inet 192.0.2.2/24 brd ... scope global eth0".
  const { stdout } = await run("ip", ["-o", "-4", "addr", "show"]);
  for (const line of stdout.split("\n")) {
    const address = /\binet (\S+)/.exec(line)?.[1];
    if (!address || onOwnLink(line)) continue;
    for (const cidr of labCidrs) if (cidrsOverlap(cidr, address)) collisions.push(`${cidr} overlaps the host address ${address}`);
  }
  for (const route of await rootRouteCidrs()) {
    // local/broadcast routes belong to addresses, reported above.
    if (onOwnLink(route.line) || /^(local|broadcast) /.test(route.line)) continue;
    for (const cidr of labCidrs) if (cidrsOverlap(cidr, route.cidr)) collisions.push(`${cidr} overlaps the host route "${route.line}"`);
  }
  return [...new Set(collisions)];
}

/** A process that runs (a zombie, killed but not yet reaped, does not count). */
export function processRunning(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Processes whose command line contains `marker` (the lab's state dir): what `lab down` must not leave. */
export function processesMentioning(marker: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      continue; // exited meanwhile
    }
    if (cmdline.includes(marker)) found.push({ pid: Number(entry), cmdline });
  }
  return found;
}
