#!/usr/bin/env bash
# Alert benchmark: time from a document entering `vigie run` to the local receiver holding its
# signed alert (median, p99 over COUNT incidents), and delivery throughput against a plain
# Python POST loop to the same receiver. All on 127.0.0.1.
# Usage: ops/bench/alert-bench.sh [COUNT] [RATE_PER_S]   (results in ops/bench/out/alerts.txt)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${1:-1000}
rate=${2:-20}
mkdir -p ops/bench/out
cargo build --release --locked -q --workspace
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie
{
  echo "alert benchmark, $count incidents, $(nproc) cores, $(date -u +%FT%TZ)"
  python3 ops/bench/alert_bench.py "$bin" "$root" "$count" "$rate"
} | tee ops/bench/out/alerts.txt
