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

/**
 * Every way the lab's CIDRs collide with the host: an address it holds or a route it has.
 * `ownLinks` (the lab's own bridge) are ignored, so a second `lab up` does not trip on the first.
 */
export async function hostCollisions(labCidrs: string[], ownLinks: string[]): Promise<string[]> {
  const addrText = (await run("ip", ["-o", "-4", "addr", "show"])).stdout;
  const routeText = (await run("ip", ["-4", "route", "show", "table", "all"])).stdout;
  return collisionsIn(addrText, routeText, labCidrs, ownLinks);
}

/** Pure part of hostCollisions: `ip -o -4 addr show` and `ip -4 route show table all` as text. */
export function collisionsIn(addrText: string, routeText: string, labCidrs: string[], ownLinks: string[]): string[] {
  const collisions: string[] = [];
  const onOwnLink = (line: string) => ownLinks.some((link) => line.split(/\s+/).includes(link));
  // Lines look like "4: eth0    inet 192.0.2.2/24 brd ... scope global eth0".
  for (const line of addrText.split("\n")) {
    const address = /\binet (\S+)/.exec(line)?.[1];
    if (!address || onOwnLink(line)) continue;
    for (const cidr of labCidrs) if (cidrsOverlap(cidr, address)) collisions.push(`${cidr} overlaps the host address ${address}`);
  }
  // Route lines start with the destination ("10.0.0.0/8 via ...", "local 10.1.2.3 dev ..."); "default" overlaps nothing in particular.
  for (const raw of routeText.split("\n")) {
    const line = raw.trim();
    const m = /^(?:(local|broadcast|unicast)\s+)?(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s/.exec(line);
    // local/broadcast routes belong to addresses, reported above.
    if (!m || m[1] === "local" || m[1] === "broadcast" || onOwnLink(line)) continue;
    const destination = m[2].includes("/") ? m[2] : `${m[2]}/32`;
    for (const cidr of labCidrs) if (cidrsOverlap(cidr, destination)) collisions.push(`${cidr} overlaps the host route "${line}"`);
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
