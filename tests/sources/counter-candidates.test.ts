// Counter reads run only the reader whose dump the node's collection chose (node-outputs.ts
// counterCandidates), in its counting form; an unknown or absent choice runs all four again.
import { counterCandidates, natCandidates } from "../../verifier/sources/node-outputs";

test("each collected reader maps to its own counting form, for root and for a sudo user", () => {
  for (const user of ["root", "gke-user"]) {
    const plain = natCandidates(user, false);
    const counting = natCandidates(user, true);
    plain.forEach((c, i) => expect(counterCandidates(user, c.command)).toEqual([counting[i]]));
  }
  expect(counterCandidates("gke-user", "sudo -n iptables-nft-save")).toEqual([{ command: "sudo -n iptables-nft-save -c", backend: "nft" }]);
  // nft has no counting flag: its own table listing carries the counters
  expect(counterCandidates("root", "nft list table ip kube-proxy")).toEqual([{ command: "nft list table ip kube-proxy", backend: "nft-native" }]);
});

test("no choice, or a command that is not one of the readers (another user's sudo form), runs every reader", () => {
  expect(counterCandidates("root")).toEqual(natCandidates("root", true));
  expect(counterCandidates("root", "sudo -n iptables-save")).toEqual(natCandidates("root", true));
  expect(counterCandidates("root", "cat /tmp/nat.txt")).toHaveLength(4);
});
