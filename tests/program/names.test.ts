// Cloud names derive from the stack name and must fit GCP's naming rules.
import { cloudNames, stackFragment } from "../../components/names";

test.each([
  ["dev", "dev"],
  ["My_Stack.Prod", "my-stack-prod"],
  ["42-team", "team"],
  ["___", "stack"],
  ["a-very-long-stack-name-for-testing-limits", "a-very-long-stack-na"],
])("stack %s -> fragment %s", (stack, fragment) => {
  expect(stackFragment(stack)).toBe(fragment);
});

test.each(["dev", "My_Stack.Prod", "a-very-long-stack-name-for-testing-limits-", "x"])("names for stack %s satisfy GCP's rules", (stack) => {
  const names = cloudNames(stack);
  // Service account ids: 6-30 chars, lowercase letter first, no trailing hyphen.
  expect(names.nodeServiceAccountId).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
  // Cluster names: up to 40 chars; other resources: RFC 1035, up to 63.
  expect(names.cluster.length).toBeLessThanOrEqual(40);
  for (const name of Object.values(names)) {
    expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  }
});

test("different stacks get different names", () => {
  expect(cloudNames("dev").cluster).not.toBe(cloudNames("prod").cluster);
});
