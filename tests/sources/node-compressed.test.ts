// Compressed transfer of a node's dumps, run through a real /bin/sh as a node's shell runs it: the
// text, stderr and exit status come back as the bare command gives them, with gzip and without it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compressedCommand, decodeCompressed, type CommandResult } from "../../verifier/sources/node-outputs";

function sh(command: string, path = process.env.PATH ?? ""): CommandResult {
  const r = spawnSync("/bin/sh", ["-c", command], { encoding: "utf8", env: { PATH: path }, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BIG = "for i in $(seq 1 20000); do echo \"-A KUBE-SVC-$i -m comment --comment \\\"ns/svc$i:http\\\" -j KUBE-SEP-$i\"; done";

test("a big output crosses compressed and comes back byte for byte", () => {
  const bare = sh(BIG);
  const wire = sh(compressedCommand(BIG));
  expect(wire.stdout.length).toBeLessThan(bare.stdout.length / 5);
  expect(decodeCompressed(wire)).toEqual({ code: 0, stdout: bare.stdout, stderr: "" });
});

test("the command's own exit status and stderr survive the pipe", () => {
  const command = "echo partial; echo 'iptables-save: permission denied' >&2; exit 4";
  expect(decodeCompressed(sh(compressedCommand(command)))).toEqual({ code: 4, stdout: "partial\n", stderr: "iptables-save: permission denied\n" });
  const missing = decodeCompressed(sh(compressedCommand("iptables-nothing-save")));
  expect(missing.code).toBe(127);
  expect(missing.stderr).toMatch(/not found/);
});

test("a node without gzip gets the plain command", () => {
  const dir = mkdtempSync(join(tmpdir(), "gip-nogzip-"));
  try {
    // a PATH with the shell's helpers but no gzip
    for (const tool of ["seq", "echo", "base64"]) {
      const found = sh(`command -v ${tool}`).stdout.trim();
      if (found.startsWith("/")) symlinkSync(found, join(dir, tool));
    }
    const plain = sh(compressedCommand("echo hello"), dir);
    expect(plain.stdout).toBe("hello\n");
    expect(decodeCompressed(plain)).toEqual(plain);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a cut transfer is an error saying so, not an empty dump", () => {
  const wire = sh(compressedCommand(BIG));
  const cut = decodeCompressed({ ...wire, stdout: wire.stdout.slice(0, wire.stdout.length / 2) });
  expect(cut.code).toBeNull();
  expect(cut.stderr).toMatch(/could not be read .*cut/);
});
