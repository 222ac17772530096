// The node-side faults of `lab break --list` (tests/lab/fault-suite.ts). Own prefix and address
// block (giplg-, 10.242); the pod-side faults run beside it in lab-faults-pod.test.ts.
import { faultSuite } from "./fault-suite";

jest.setTimeout(120_000);

faultSuite("lab-faults-node.test.ts", "giplg-", "10.242");
