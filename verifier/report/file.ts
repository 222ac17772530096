// Writing a report file the user asked for (--markdown). The path was checked before any work, but
// a disk can still be full or a path vanish meanwhile: that is said in one line, never a stack trace,
// and the report on stdout still comes.
import { writeFileSync } from "node:fs";

/**
 * Writes `text` to `path`; on success says "wrote PATH" through `say`.
 * @returns undefined when written, else one line saying what failed and how to fix it
 */
export function writeReportFile(flag: string, path: string, text: string, say: (line: string) => void): string | undefined {
  try {
    writeFileSync(path, text);
    say(`wrote ${path}`);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `${flag} ${path}: could not write the report (${e.code ?? e.message}); the report is still printed below; give a writable path with free space`;
  }
}
