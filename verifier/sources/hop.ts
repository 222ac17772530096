// One hop of a source: announce it, run it, and on failure record a Problem and carry on, so one
// unreadable resource never hides the others.
import type { Problem } from "../model";
import type { Progress } from "./types";

export type HopRunner = <T>(label: string, subject: string, run: () => Promise<T>) => Promise<T | undefined>;

export function hopRunner(
  progress: Progress,
  problems: Problem[],
  toProblem: (error: unknown, what: string, subject: string) => Problem,
): HopRunner {
  return async (label, subject, run) => {
    progress.hop(label, "start", subject);
    try {
      const result = await run();
      progress.hop(label, "ok", subject);
      return result;
    } catch (error) {
      const problem = toProblem(error, `${label} ${subject}`, subject);
      problems.push(problem);
      progress.hop(label, "fail", `${subject}: ${problem.message}`);
      return undefined;
    }
  };
}
