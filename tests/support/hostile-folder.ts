// Hostile snapshot folders, made on the spot (nothing big is committed): links out of the folder and
// into /etc, a link loop, YAML alias bombs, JSON nested 100k deep, UTF-16 with and without a BOM,
// Latin-1, 50 MB of random bytes, a file over the size cap, a FIFO. Each input says which file it
// makes and what the reader must say about it. Used by tests/snapshot/hostile.test.ts and
// bench/snapshot-hostile.ts.
import { execFileSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { buildWorld } from "./rest-standins/world";

/** A line in a file outside the folder: it must never appear in any output. */
export const OUTSIDE_SECRET = "root:$6$planted-outside-line$xyz:19000:0:99999:7:::";

export interface HostileInput {
  /** short name for tables */
  name: string;
  /** the path the input makes, relative to the folder */
  file: string;
  /** what the reader's one warning for it must say; undefined when it is read as a good file */
  expect?: RegExp;
  make: (dir: string, outside: string) => void;
}

/** The stand-in world's Ingress, as kubectl prints it: the one object every hostile folder holds. */
export function worldIngress(): { object: Record<string, unknown>; ref: string } {
  const world = buildWorld();
  const ingress = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", ...world.kube.ingresses[0]! } as Record<string, unknown>;
  return { object: ingress, ref: `${world.namespace}/${world.ingressName}` };
}

/** "a: &a [x,x,...] b: &b [*a,*a,...] ..." with `levels` levels of 9 aliases each: 9^levels values. */
export function billionLaughs(levels: number): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`);
  return `${lines.join("\n")}\n`;
}

const utf16le = (text: string, bom: boolean) => Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, "utf16le")]);
const utf16be = (text: string) => {
  const le = Buffer.from(text, "utf16le");
  return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]);
};

const FIREWALL = "kind: compute#firewall\nname: café-allow-health-checks\nselfLink: https://www.googleapis.com/compute/v1/projects/study-project/global/firewalls/cafe\nsourceRanges: [130.211.0.0/22]\n";

export const HOSTILE: HostileInput[] = [
  {
    name: "symlink to a file outside",
    file: "shadow.yaml",
    expect: /a symbolic link that leads outside the folder; not followed/,
    make: (dir, outside) => {
      writeFileSync(join(outside, "shadow"), `${OUTSIDE_SECRET}\n`);
      symlinkSync(join(outside, "shadow"), join(dir, "shadow.yaml"));
    },
  },
  { name: "linked folder to /etc", file: "etc", expect: /a symbolic link that leads outside the folder; not followed/, make: (dir) => symlinkSync("/etc", join(dir, "etc")) },
  { name: "self -> . loop", file: "self", expect: /a link back to a folder that holds it \(a loop\); skipped/, make: (dir) => symlinkSync(".", join(dir, "self")) },
  { name: "YAML billion laughs, 8 levels", file: "laughs-8.yaml", expect: /aliases expand to over \d+ values \(an alias bomb\); not read/, make: (dir) => writeFileSync(join(dir, "laughs-8.yaml"), billionLaughs(8)) },
  { name: "YAML billion laughs, 9 levels", file: "laughs-9.yaml", expect: /aliases expand to over \d+ values \(an alias bomb\); not read/, make: (dir) => writeFileSync(join(dir, "laughs-9.yaml"), billionLaughs(9)) },
  { name: "JSON nested 100k deep", file: "deep.json", expect: /nested deeper than 100 levels; not read/, make: (dir) => writeFileSync(join(dir, "deep.json"), "[".repeat(100_000) + "]".repeat(100_000)) },
  { name: "YAML flow nested 100k deep", file: "deep.yaml", expect: /nested deeper than 100 levels; not read/, make: (dir) => writeFileSync(join(dir, "deep.yaml"), "a: " + "[".repeat(100_000) + "]".repeat(100_000) + "\n") },
  { name: "UTF-16LE with BOM, holding the Ingress", file: "ingress-utf16.yaml", make: (dir) => writeFileSync(join(dir, "ingress-utf16.yaml"), utf16le(yaml.dump(worldIngress().object), true)) },
  { name: "UTF-16BE with BOM", file: "firewall-utf16be.yaml", make: (dir) => writeFileSync(join(dir, "firewall-utf16be.yaml"), utf16be(FIREWALL.replace("café", "cafe"))) },
  { name: "UTF-16LE without BOM", file: "nobom.yaml", expect: /looks like UTF-16LE text without a byte-order mark; not read: convert it to UTF-8 \(iconv -f UTF-16LE -t UTF-8/, make: (dir) => writeFileSync(join(dir, "nobom.yaml"), utf16le(FIREWALL, false)) },
  { name: "Latin-1", file: "latin1.yaml", expect: /not UTF-8 \(8-bit text such as Latin-1.*iconv -f latin1 -t utf-8 latin1\.yaml/, make: (dir) => writeFileSync(join(dir, "latin1.yaml"), Buffer.from(FIREWALL, "latin1")) },
  {
    name: "50 MB of random bytes",
    file: "junk.json",
    expect: /binary, not (UTF-8 )?text/,
    make: (dir) => {
      const fd = openSync(join(dir, "junk.json"), "w");
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 50; i++) writeSync(fd, randomFillSync(chunk));
      closeSync(fd);
    },
  },
  {
    name: "file over the size cap (sparse, 65 MiB)",
    file: "huge.yaml",
    expect: /bytes, over the 64 MiB a snapshot file may have; not read/,
    make: (dir) => {
      const fd = openSync(join(dir, "huge.yaml"), "w");
      writeSync(fd, "x", 65 * 1024 * 1024);
      closeSync(fd);
    },
  },
  {
    name: "an object whose kind is 100 kB with control characters",
    file: "long-kind.json",
    expect: /^long-kind\.json: the file: compute#\\u0007\\u001b\[2Jx+…$/,
    make: (dir) => writeFileSync(join(dir, "long-kind.json"), JSON.stringify({ kind: `compute#\u0007\u001b[2J${"x".repeat(100_000)}`, name: "n" })),
  },
  { name: "FIFO", file: "pipe.json", expect: /not a regular file \(a device, FIFO or socket\); not read/, make: (dir) => execFileSync("mkfifo", [join(dir, "pipe.json")]) },
];

/** Makes the folder `dir` with the given inputs (all by default); `outside` is a folder beside it for link targets. */
export function makeHostileFolder(dir: string, outside: string, inputs: HostileInput[] = HOSTILE): void {
  mkdirSync(dir, { recursive: true });
  mkdirSync(outside, { recursive: true });
  for (const input of inputs) input.make(dir, outside);
}
