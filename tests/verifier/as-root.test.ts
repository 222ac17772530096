// Hints show root's commands as the reader must type them: as they are for root, with sudo for
// anyone else (sudo -E env PATH="$PATH" for npm/node, which sudo would not find otherwise).
import { spawnSync } from "node:child_process";
import { asRoot, shellIsRoot } from "../../verifier/cli/as-root";
import { ROOT, cliArgs } from "../support/cli";

describe("asRoot", () => {
  test("root sees the command unchanged", () => {
    expect(asRoot("npm run lab -- up", { uid: 0 })).toBe("npm run lab -- up");
    expect(asRoot("ip netns exec gip-lab-client curl -s http://10.213.200.1/", { uid: 0, sudoUser: "root" })).toBe("ip netns exec gip-lab-client curl -s http://10.213.200.1/");
  });

  test("anyone else gets sudo; commands that start Node keep PATH and the environment", () => {
    expect(asRoot("npm run lab -- up", { uid: 1000 })).toBe('sudo -E env PATH="$PATH" npm run lab -- up');
    expect(asRoot("ip netns exec c curl -s http://x/", { uid: 1000 })).toBe("sudo ip netns exec c curl -s http://x/");
  });

  test("a CLI started through sudo answers the user's shell, which is not root's", () => {
    expect(shellIsRoot({ uid: 0, sudoUser: "alice" })).toBe(false);
    expect(asRoot("npm run lab -- down", { uid: 0, sudoUser: "alice" })).toBe('sudo -E env PATH="$PATH" npm run lab -- down');
  });
});

describe("the lab CLI's hints follow who runs it", () => {
  // A prefix no lab uses: `lab verify` stops at "not up" before any namespace work.
  const env = { PATH: process.env.PATH, LAB_PREFIX: "gipnone-", LAB_NET: "10.229" };
  const verify = (extra: Record<string, string>) =>
    spawnSync(process.execPath, [...cliArgs("lab/cli.ts"), "verify"], { cwd: ROOT, env: { ...env, ...extra }, encoding: "utf8", timeout: 30_000 });

  test("root: no sudo in the hint; through sudo (SUDO_USER): the sudo form", () => {
    const plain = verify({});
    expect(plain.status).toBe(2);
    if (process.getuid?.() !== 0) {
      console.warn("as-root.test: not root, so only the needs-root hint is checked");
      expect(plain.stderr).toContain('sudo -E env PATH="$PATH" npm run lab -- verify');
      return;
    }
    expect(plain.stderr).toContain('lab "gipnone-" is not up: run npm run lab -- up');
    expect(plain.stderr).not.toContain("sudo");
    const viaSudo = verify({ SUDO_USER: "alice" });
    expect(viaSudo.stderr).toContain('is not up: run sudo -E env PATH="$PATH" npm run lab -- up');
  }, 30_000);
});
