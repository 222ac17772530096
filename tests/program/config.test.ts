// The config contract (design.md): defaults, and a clear error for every invalid value.
import { ConfigError, cidrProblem, configDefaults, loadConfig, parseConfig, type ConfigIssue } from "../../components/config";
import { rawConfig } from "./harness";

function issuesFor(values: Record<string, string>, project: string | null = "demo-project-1"): ConfigIssue[] {
  return parseConfig(rawConfig(values, project)).issues;
}

describe("defaults", () => {
  test("only gcp:project is needed; every other key has design.md's default", () => {
    const { config, issues } = parseConfig(rawConfig({}));
    expect(issues).toEqual([]);
    expect(config).toEqual({
      project: "demo-project-1",
      location: "us-central1-a",
      locationKind: "zone",
      region: "us-central1",
      nodeCount: 3,
      nodesPerZone: 3,
      machineType: "e2-medium",
      spot: true,
      replicas: 2,
      image: configDefaults.image,
      servicePort: 80,
      podPort: 8080,
      nodePort: undefined,
      backendMode: "instance-group",
      sshSourceRanges: ["35.235.240.0/20"],
    });
  });

  test("a region gives a regional cluster with nodeCount / 3 nodes per zone", () => {
    const { config } = parseConfig(rawConfig({ location: "europe-west4", nodeCount: "6", replicas: "2" }));
    expect(config).toMatchObject({ locationKind: "region", region: "europe-west4", nodeCount: 6, nodesPerZone: 2 });
  });

  test("set values are taken, lists in JSON (as `pulumi config set --path` stores them) or comma-separated", () => {
    const json = parseConfig(rawConfig({ nodePort: "30080", backendMode: "neg", spot: "false", sshSourceRanges: '["203.0.113.7/32","198.51.100.0/24"]' }));
    expect(json.config).toMatchObject({ nodePort: 30080, backendMode: "neg", spot: false, sshSourceRanges: ["203.0.113.7/32", "198.51.100.0/24"] });
    const commas = parseConfig(rawConfig({ sshSourceRanges: "203.0.113.7/32, 198.51.100.0/24" }));
    expect(commas.config?.sshSourceRanges).toEqual(["203.0.113.7/32", "198.51.100.0/24"]);
  });
});

// One row per invalid value of the contract table: key, value, and a phrase the rule must contain.
const invalidValues: [key: string, value: string, rule: RegExp][] = [
  ["location", "mars-north1-zz", /zone like us-central1-a.*region like us-central1/],
  ["location", "US-CENTRAL1", /zone like .* or a region/],
  ["nodeCount", "0", /whole number from 1/],
  ["nodeCount", "2.5", /whole number/],
  ["nodeCount", "three", /whole number/],
  ["machineType", "E2 Medium", /machine type like e2-medium/],
  ["spot", "yes", /true or false/],
  ["replicas", "0", /whole number from 1/],
  ["replicas", "-1", /whole number from 1/],
  ["image", "hello app:1.0", /container image reference/],
  ["servicePort", "0", /from 1 to 65535/],
  ["servicePort", "65536", /from 1 to 65535/],
  ["podPort", "0", /from 1 to 65535/],
  ["podPort", "70000", /from 1 to 65535/],
  ["nodePort", "8080", /from 30000 to 32767/],
  ["nodePort", "32768", /from 30000 to 32767/],
  ["backendMode", "nodes", /"instance-group".*or "neg"/],
  ["sshSourceRanges", "0.0.0.0/0", /refused: a \/0 range/],
  ["sshSourceRanges", '["203.0.113.7/32","0.0.0.0/0"]', /refused: a \/0 range/],
  ["sshSourceRanges", "[]", /at least one CIDR/],
  ["sshSourceRanges", "203.0.113.7", /IPv4 CIDR like/],
  ["sshSourceRanges", "203.0.113.7/24", /host bits set; write the network address: 203.0.113.0\/24/],
  ["sshSourceRanges", "[not json", /JSON list of CIDRs/],
];

describe("every invalid value fails with key, value and rule", () => {
  test.each(invalidValues)("%s = %s", (key, value, rule) => {
    const issues = issuesFor({ [key]: value });
    const mine = issues.filter((i) => i.key === `gke-ingress-path:${key}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.rule).toMatch(rule);
    expect(mine[0]!.value === value || value.includes(mine[0]!.value!)).toBe(true);
  });

  test("gcp:project missing, or not a project id", () => {
    expect(issuesFor({}, null)).toEqual([{ key: "gcp:project", value: undefined, rule: expect.stringMatching(/required.*pulumi config set gcp:project/) }]);
    expect(issuesFor({}, "My Project")[0]).toMatchObject({ key: "gcp:project", value: "My Project", rule: expect.stringMatching(/project id/) });
  });

  test("a regional cluster needs nodeCount divisible by 3", () => {
    const [issue] = issuesFor({ location: "us-central1", nodeCount: "4" });
    expect(issue).toMatchObject({ key: "gke-ingress-path:nodeCount", value: "4", rule: expect.stringMatching(/multiple of 3/) });
    expect(issuesFor({ location: "us-central1-b", nodeCount: "4" })).toEqual([]);
  });

  test("replicas may not exceed nodeCount (one pod per node)", () => {
    const [issue] = issuesFor({ nodeCount: "3", replicas: "4" });
    expect(issue).toMatchObject({ key: "gke-ingress-path:replicas", value: "4", rule: expect.stringMatching(/<= nodeCount \(3\).*own node/) });
    expect(issuesFor({ nodeCount: "3", replicas: "3" })).toEqual([]);
  });

  test("a misspelt key is reported, not silently ignored", () => {
    const [issue] = issuesFor({ nodecount: "5" });
    expect(issue).toMatchObject({ key: "gke-ingress-path:nodecount", value: "5", rule: expect.stringMatching(/unknown key.*nodeCount/) });
  });

  test("all problems are reported together, none hides another", () => {
    const issues = issuesFor({ location: "nowhere", nodeCount: "0", spot: "maybe", podPort: "0", backendMode: "x", sshSourceRanges: "0.0.0.0/0" }, null);
    expect(issues.map((i) => i.key).sort()).toEqual(
      ["gcp:project", "location", "nodeCount", "spot", "podPort", "backendMode", "sshSourceRanges"].map((k) => (k.includes(":") ? k : `gke-ingress-path:${k}`)).sort(),
    );
  });
});

describe("loadConfig", () => {
  test("throws one ConfigError whose message names each key, value and rule", () => {
    let thrown: unknown;
    try {
      loadConfig(rawConfig({ nodeCount: "0", sshSourceRanges: "0.0.0.0/0" }));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toMatch(/invalid stack config \(2 problems\)/);
    expect(message).toMatch(/gke-ingress-path:nodeCount = "0": must be a whole number from 1/);
    expect(message).toMatch(/gke-ingress-path:sshSourceRanges = "0.0.0.0\/0": refused/);
  });
});

describe("cidrProblem", () => {
  test.each(["0.0.0.0/0", "10.0.0.0/0"])("refuses %s (open to everyone)", (cidr) => expect(cidrProblem(cidr)).toMatch(/refused/));
  test.each(["35.235.240.0/20", "203.0.113.7/32", "10.0.0.0/8"])("accepts %s", (cidr) => expect(cidrProblem(cidr)).toBeUndefined());
  test.each(["256.1.1.1/32", "1.2.3.4/33", "::/0", "example.com/32"])("rejects malformed %s", (cidr) => expect(cidrProblem(cidr)).toMatch(/IPv4 CIDR/));
});
