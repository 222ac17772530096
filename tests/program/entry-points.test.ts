// Every entry point checks the Node version before anything else (scripts/check-node.js) and every
// CLI starts compiled (node -r ./scripts/launch.js dist/...). Where this machine has an older Node
// (build machines ship Node 20), the real thing is run with it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { ROOT, cliArgs } from "../support/cli";
import { describeWithOldNode } from "../support/old-node";

const check = require("../../scripts/check-node.js") as {
  problem(version: string, engines: string | undefined, execPath?: string): string | undefined;
  requiredVersion(engines: string): string | undefined;
  parseVersion(text: string): number[];
};
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string }; scripts: Record<string, string> };
const required = check.requiredVersion(pkg.engines.node);

describe("the Node version check", () => {
  test("engines.node is a plain minimum the check reads", () => {
    expect(required).toMatch(/^\d+(\.\d+){0,2}$/);
  });

  test("an older Node gets what to do; the minimum and newer pass", () => {
    const message = check.problem("v20.20.2", ">=24.9", "/usr/bin/node")!;
    expect(message).toContain("needs Node.js 24.9 or newer");
    expect(message).toContain("this is Node 20.20.2 (/usr/bin/node)");
    expect(message).toContain("source .ci/node.sh");
    expect(message).toContain("nvm install");
    expect(check.problem("24.8.9", ">=24.9")).toBeDefined();
    expect(check.problem("24.9.0", ">=24.9")).toBeUndefined();
    expect(check.problem("26.0.0", ">=24.9")).toBeUndefined();
    expect(check.problem(process.versions.node, pkg.engines.node)).toBeUndefined();
  });

  test(".nvmrc and .ci/node.sh give a Node that engines accepts, of the same major", () => {
    const nvmrc = readFileSync(join(ROOT, ".nvmrc"), "utf8").trim();
    const nodeSh = readFileSync(join(ROOT, ".ci/node.sh"), "utf8");
    const major = /^NODE_WANTED_MAJOR=(\d+)$/m.exec(nodeSh)?.[1];
    const version = /^NODE_WANTED_VERSION=(\d+\.\d+\.\d+)$/m.exec(nodeSh)?.[1];
    expect(major).toBe(nvmrc);
    expect(version?.split(".")[0]).toBe(major);
    expect(check.problem(version!, pkg.engines.node)).toBeUndefined();
  });

  test("the floor CI tests on (.ci/node.sh floor) is exactly engines' minimum", () => {
    const floor = /^NODE_FLOOR_VERSION=(\d+\.\d+\.\d+)$/m.exec(readFileSync(join(ROOT, ".ci/node.sh"), "utf8"))?.[1];
    expect(floor).toBeDefined();
    expect(check.parseVersion(floor!)).toEqual(check.parseVersion(required!));
    expect(readFileSync(join(ROOT, ".ci/run"), "utf8")).toMatch(/source \.ci\/node\.sh floor/);
    // the lock's root entry carries the same engines (npm ci checks it)
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { engines?: { node?: string } }> };
    expect(lock.packages[""]?.engines?.node).toBe(pkg.engines.node);
  });

  test("every npm script runs the check first; the CLIs start compiled through scripts/launch.js", () => {
    const firstCommand = /^node (scripts\/check-node\.js|scripts\/build\.js|-r \.\/scripts\/launch\.js dist\/\S+\.js)( |$)/;
    for (const [name, command] of Object.entries(pkg.scripts)) {
      if (name === "test") continue; // npm runs pretest first
      expect(`${name}: ${command}`).toMatch(new RegExp(`^${name}: ${firstCommand.source.slice(1)}`));
    }
    expect(pkg.scripts.pretest).toBe("node scripts/check-node.js");
    expect(readFileSync(join(ROOT, "scripts/build.js"), "utf8")).toMatch(/^"use strict";\nrequire\("\.\/check-node"\);/m);
    expect(readFileSync(join(ROOT, "jest.config.js"), "utf8")).toMatch(/^require\("\.\/scripts\/check-node"\);/m);
    for (const cli of ["verify", "trace", "sweep", "lab", "preflight"]) {
      const entry = /dist\/(\S+)\.js$/.exec(pkg.scripts[cli])?.[1];
      expect(existsSync(join(ROOT, `${entry}.ts`))).toBe(true);
      // tests start them the same way
      expect(cliArgs(`${entry}.ts`).map((a) => a.replace(`${ROOT}/`, ""))).toEqual(["-r", "scripts/launch.js", `dist/${entry}.js`]);
    }
  });
});

describeWithOldNode("with an older Node for real", (node) => {
  // An empty cache: no Node provisioned by .ci/node.sh, so every entry point must refuse with advice.
  const noCache = mkdtempSync(join(tmpdir(), "no-node-cache-"));
  afterAll(() => rmSync(noCache, { recursive: true, force: true }));
  const env = { ...process.env, XDG_CACHE_HOME: noCache, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}` };
  const expectAdvice = (r: { status: number | null; stderr: string }) => {
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`needs Node.js ${required} or newer`);
    expect(r.stderr).toContain("source .ci/node.sh");
    expect(r.stderr).not.toMatch(/Must use import|SyntaxError|at Module\./);
  };

  test.each([
    ["a CLI (npm run trace)", [...cliArgs("verifier/cli/trace.ts"), "--help"]],
    ["jest", ["node_modules/jest/bin/jest.js", "--listTests"]],
    ["the build (npm ci's prepare)", ["scripts/build.js"]],
  ])("%s stops at once with what to do", (_name, args) => {
    expectAdvice(spawnSync(node, args, { cwd: ROOT, env, encoding: "utf8", timeout: 30_000 }));
  });

  test("npm test stops in its pretest, within seconds", () => {
    const started = Date.now();
    const r = spawnSync("npm", ["test"], { cwd: ROOT, env: { ...env, PATH: `${dirname(node)}${delimiter}/usr/bin${delimiter}/bin` }, encoding: "utf8", timeout: 60_000 });
    expectAdvice(r);
    // about half a second on an idle machine (npm's own start-up on Node 20); a generous bound for a busy one
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);

  test("a CLI runs itself again on the Node .ci/node.sh provisioned, when it is in the cache: same stdout and exit code, a note on stderr", () => {
    const version = /^NODE_WANTED_VERSION=(\S+)$/m.exec(readFileSync(join(ROOT, ".ci/node.sh"), "utf8"))![1];
    const cache = mkdtempSync(join(tmpdir(), "node-cache-"));
    try {
      const bin = join(cache, "gke-ingress-path", `node-${version}`, "bin");
      mkdirSync(bin, { recursive: true });
      symlinkSync(process.execPath, join(bin, "node"));
      const r = spawnSync(node, [...cliArgs("verifier/cli/trace.ts"), "-", "--json"], { cwd: ROOT, env: { ...env, XDG_CACHE_HOME: cache }, input: "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n", encoding: "utf8", timeout: 30_000 });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ format: "iptables-save", services: [] });
      expect(r.stderr).toContain(`running on ${join(bin, "node")}`);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
