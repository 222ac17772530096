// The article's claims C1..C12, each judged from the collected model with evidence.
// Pure: the model in, results out; nothing here touches the network.
import type { CheckResult, PathModel } from "./model";
import { buildContext } from "./checks/context";
import { checkC1, checkC8 } from "./checks/cluster";
import { checkC2, checkC3, checkC4, checkC5, checkC6, checkC7 } from "./checks/nodes";
import { checkC9, checkC10, checkC11 } from "./checks/loadbalancer";
import { checkC12 } from "./checks/answers";

export { detectPathMode, type PathMode } from "./checks/path-mode";
export { accountNewConnections, type ConnectionAccount } from "./checks/connections";

const CHECKS = [checkC1, checkC2, checkC3, checkC4, checkC5, checkC6, checkC7, checkC8, checkC9, checkC10, checkC11, checkC12];

/** The nodes' nat claims: on the container-native path they are facts of the cluster, not hops. */
const NAT_CLAIMS: CheckResult["id"][] = ["C2", "C3", "C4", "C5", "C6", "C7"];

export function runChecks(model: PathModel): CheckResult[] {
  const ctx = buildContext(model);
  // A bug in one check must not hide the others: it becomes that claim's cannot-tell.
  const results = CHECKS.map((check, i): CheckResult => {
    try {
      return check(ctx);
    } catch (err) {
      const id = `C${i + 1}` as CheckResult["id"];
      return { id, claim: id, verdict: "cannot-tell", summary: `internal error while checking: ${(err as Error).message}`, evidence: [] };
    }
  });
  if (!ctx.mode.neg.detected) return results;
  // judged the same way, said apart from the path (docs/neg.md)
  return results.map((r) => (NAT_CLAIMS.includes(r.id) ? { ...r, summary: `Fact of the cluster, not a hop of the NEG path: ${r.summary}` } : r));
}
