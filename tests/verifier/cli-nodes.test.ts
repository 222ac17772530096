// verify's --nodes and --concurrency: read into the options, bad values listed with the rest.
import { HELP, parseCli } from "../../verifier/cli/verify";

test("--nodes and --concurrency reach the options; all is the default and adds nothing", () => {
  expect(parseCli(["--nodes", "10", "--concurrency", "4"])).toMatchObject({ nodes: { kind: "count", count: 10 }, concurrency: 4 });
  expect(parseCli(["--nodes", "gke-a,gke-b"]).nodes).toEqual({ kind: "named", names: ["gke-a", "gke-b"] });
  const plain = parseCli([]);
  expect(plain.nodes).toBeUndefined();
  expect(plain.concurrency).toBeUndefined();
  expect(HELP).toContain("--nodes WHICH");
  expect(HELP).toContain("--concurrency N");
});

test("bad values are listed together, each saying what to give", () => {
  expect(() => parseCli(["--nodes", "0", "--concurrency", "0", "--timeout", "0"])).toThrow(
    expect.objectContaining({ message: expect.stringMatching(/--timeout 0: must be a whole number 1\.\.600[^]*--concurrency 0: must be a whole number 1\.\.256[^]*--nodes 0: give a number >= 1/) }),
  );
});
