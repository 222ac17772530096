// One lab per test file: built fresh before the file's tests (whatever an earlier crashed run left
// is taken down first), put back as `lab up` made it after each test, and taken down at the end,
// leaving nothing behind (a leftover fails the file).
import type { LabTopology } from "../../lab/topology";
import { labDown } from "../../lab/down";
import { labRepair } from "../../lab/faults";
import { labUp } from "../../lab/up";

/**
 * The LB's health-check interval for the labs that break things, in ms: a fault shows after two
 * failed checks, so each case waits about 2 x this instead of 2 s (lab up's default is 1000;
 * timeouts stay 1 s).
 */
export const TEST_HEALTH_CHECK_MS = 200;

/** Registers the lab's beforeAll / afterEach / afterAll in the calling describe. */
export function useLab(t: LabTopology): void {
  beforeAll(async () => {
    await labDown(t);
    await labUp(t);
  });
  afterEach(async () => {
    await labRepair(t);
  });
  afterAll(async () => {
    expect((await labDown(t)).leftovers).toEqual([]);
  });
}
