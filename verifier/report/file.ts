// Writing a report file the user asked for (--markdown). The path was checked before any work, but
// a disk can still be full or a path vanish meanwhile: that is said in one line, never a stack trace,
// and the report on stdout still comes.
import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * Writes `text` to `path`, owner-only (0600: the report names the cluster's resources) and whole
 * (into a temporary file beside it, then renamed; a device such as /dev/stdout is written in place);
 * on success says "wrote PATH" through `say`.
 * @returns undefined when written, else one line saying what failed and how to fix it
 */
export function writeReportFile(flag: string, path: string, text: string, say: (line: string) => void): string | undefined {
  try {
    if (path.startsWith("/dev/")) writeFileSync(path, text);
    else {
      const partial = `${path}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
      try {
        writeFileSync(partial, text, { mode: 0o600 });
        renameSync(partial, path);
      } finally {
        rmSync(partial, { force: true });
      }
    }
    say(`wrote ${path}`);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `${flag} ${path}: could not write the report (${e.code ?? e.message}); the report is still printed below; give a writable path with free space`;
  }
}
