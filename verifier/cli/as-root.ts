// How a hint shows a command that needs root. README shows commands as root runs them; a hint does
// the same when the person reading it is root (a root shell, a container, CI), and adds sudo when
// not. Someone who ran the CLI through sudo is root in this process but not in their shell:
// sudo sets SUDO_USER, so they get the sudo form for their next command.
// sudo resets PATH to its secure_path and drops most of the environment (sudoers(5), env_reset):
// root would not find the Node that `source .ci/node.sh` or nvm put on the user's PATH, nor see
// LAB_PREFIX / LAB_NET. So a command that starts Node gets `sudo -E env PATH="$PATH"`; a system
// command (ip, iptables) plain `sudo`.

export interface Who {
  /** process.getuid(); undefined where there is none (Windows): no sudo then */
  uid?: number;
  /** process.env.SUDO_USER */
  sudoUser?: string;
}

function currentUser(): Who {
  return { uid: typeof process.getuid === "function" ? process.getuid() : undefined, sudoUser: process.env.SUDO_USER };
}

/** Whether the shell that will run the hint is root's. */
export function shellIsRoot(who: Who = currentUser()): boolean {
  if (who.uid === undefined) return true;
  return who.uid === 0 && (who.sudoUser === undefined || who.sudoUser === "" || who.sudoUser === "root");
}

/**
 * `command` as the reader should type it: unchanged for root; with `sudo -E env PATH="$PATH"` when
 * it starts Node (npm, npx, node), else with `sudo`.
 */
export function asRoot(command: string, who: Who = currentUser()): string {
  if (shellIsRoot(who)) return command;
  return /^(npm|npx|node)\s/.test(command) ? `sudo -E env PATH="$PATH" ${command}` : `sudo ${command}`;
}
