// The floor the benchmarks compare the trace and `verify --snapshot` with: the least any reader of
// saved iptables-save dumps must do. It reads each file given, one after another, splits it into
// lines and indexes the rule lines by chain (a Map of chain -> line numbers), then prints the number
// of chains over all files. Plain JavaScript, run as its own process and timed whole:
//   node bench/floor.js DUMP [DUMP ...]
"use strict";
const { readFileSync } = require("node:fs");

let chains = 0;
for (const file of process.argv.slice(2)) {
  const lines = readFileSync(file, "utf8").split("\n");
  const byChain = new Map();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (!l.startsWith("-A ")) continue;
    const name = l.slice(3, l.indexOf(" ", 3));
    let list = byChain.get(name);
    if (!list) byChain.set(name, (list = []));
    list.push(i);
  }
  chains += byChain.size;
}
process.stdout.write(String(chains) + " chains\n");
