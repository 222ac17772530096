// The pod-side faults of `lab break --list` (tests/lab/fault-suite.ts). Own prefix and address
// block (giplf-, 10.241); the node-side faults run beside it in lab-faults-node.test.ts.
import { faultSuite } from "./fault-suite";

jest.setTimeout(120_000);

faultSuite("lab-faults-pod.test.ts", "giplf-", "10.241");
