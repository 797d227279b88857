#!/usr/bin/env bash
# Tor collector benchmark, in the private Tor lab (ops/lab): pages per minute with 1, 4 and 16
# sources crawled at once (each behind its own onion address), and the time from a post
# appearing on the simulated forum to its sighting in the store under `vigie run`.
# Usage: ops/bench/tor-lab-bench.sh [REPS] [POSTS] [INTERVAL_S]   (ops/bench/out/tor.txt)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source ops/deps.sh
reps=${1:-3}; posts=${2:-10}; interval=${3:-10}
mkdir -p ops/bench/out
cargo build --release --locked -q --workspace
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie
lab=$(mktemp -d)
trap 'bash ops/lab/lab.sh stop "$lab" >/dev/null 2>&1 || true; rm -rf "$lab"' EXIT
bash ops/lab/lab.sh start "$lab" --base "${VIGIE_LAB_BASE:-18000}" --extra-onions 16 --bulk 20
{
  echo "Tor lab benchmark, $(nproc) cores, $(date -u +%FT%TZ); forum of 27 threads behind each onion"
  python3 ops/bench/tor_bench.py "$bin" "$root" "$lab" "$reps" "$posts" "$interval"
} | tee ops/bench/out/tor.txt
