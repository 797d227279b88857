#!/usr/bin/env bash
# The main job, offline: scan the example leak-market posts, record them in the evidence store
# (default storage/), list the incidents, and verify the chain of custody.
# Usage: ops/demo.sh [STORE_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source "$root/ops/deps.sh"
store=${1:-storage}
cargo build --release --locked -q -p vigie-cli
vigie=${CARGO_TARGET_DIR:-target}/release/vigie
echo "== vigie scan tests/fixtures/posts"
"$vigie" scan tests/fixtures/posts || [ $? -eq 1 ]
echo
echo "== vigie ingest (store: $store)"
"$vigie" --store "$store" ingest --source demo tests/fixtures/posts tests/fixtures/reposts
echo
echo "== vigie incidents list --severity high"
"$vigie" --store "$store" incidents list --severity high
echo
echo "== vigie evidence verify"
"$vigie" --store "$store" evidence verify
