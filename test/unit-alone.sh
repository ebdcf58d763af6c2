#!/bin/sh
# The unit tier as on a machine without any server program: PATH holds only node, and a test that
# starts a child process fails (test/helpers/no-child-process.ts). Runs the compiled tests, so
# build first (npm run test:unit does). Extra arguments go to node --test, e.g.
# `sh test/unit-alone.sh build/test/unit/parse.test.js` for one file.
set -eu
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
trap 'exit 130' INT TERM
ln -s "$(command -v node)" "$bin/node"
guard="$(pwd)/build/test/helpers/no-child-process.js"
[ "$#" -gt 0 ] || set -- build/test/unit/*.test.js
PATH="$bin" NODE_OPTIONS="${NODE_OPTIONS:-} --import=\"$guard\"" node --test --test-concurrency=3 "$@"
