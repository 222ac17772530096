// What verify's two halves share: its options (verify.ts parses them; snapshot.ts runs --ingress and
// --snapshot with them) and the check that a report file can be written (verify and lab verify).
// Its own module, so verify.ts and snapshot.ts import it and not each other both ways.
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { NodesFlag } from "../sources/node-selection";

export interface CliOptions {
  outputs?: string;
  stack?: string;
  requests: number;
  keepAlive: boolean;
  transport: "direct" | "iap";
  timeoutMs: number;
  trustHostKeyOnFirstUse: boolean;
  json: boolean;
  includeDumps: boolean;
  markdown?: string;
  color: boolean;
  full: boolean;
  help: boolean;
  /** verify --ingress / --snapshot (verifier/cli/snapshot.ts) */
  ingress?: string;
  service?: string;
  snapshot?: string;
  project?: string;
  location?: string;
  cluster?: string;
  noSsh?: boolean;
  /** --nodes (sources/node-selection.ts) and --concurrency */
  nodes?: NodesFlag;
  concurrency?: number;
  /** --requests was given (--ingress sends none by default) */
  requestsGiven?: boolean;
}

/**
 * Why FILE (the value of FLAG) could not be written, or undefined. Checked before any work, so a
 * long run does not end in a write error after the report was made.
 */
export function unwritableFileProblem(flag: string, file: string): string | undefined {
  const path = resolve(file);
  const existing = statSync(path, { throwIfNoEntry: false });
  if (existing?.isDirectory()) return `${flag} ${file}: is a directory; give a file name, e.g. ${flag} report.md`;
  try {
    accessSync(existing ? path : dirname(path), constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" || code === "ENOTDIR" ? `no directory ${dirname(path)}` : existing ? `the file is not writable (${code})` : `${dirname(path)} is not writable (${code})`;
    return `${flag} ${file}: cannot write the report there: ${why}; give a path in an existing, writable directory`;
  }
}
