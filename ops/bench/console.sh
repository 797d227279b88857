#!/usr/bin/env bash
# The analyst console at scale: seeds a store with VIGIE_BENCH_INCIDENTS incidents (default
# 100,000) and prints the median and 90th-percentile server time of the incident list, its
# filters, the text search and an incident page (handlers called in process, release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/vigie-ci-target}
cargo test --workspace --locked --release --test bench -- --ignored --nocapture bench_list_and_search
