#!/usr/bin/env bash
# Ingest benchmark: 100,000 generated ~2 KB forum posts (30% exact duplicates, 10% near
# duplicates) into a fresh store, matching on. Reports documents/s, bytes on disk per distinct
# document, and peak memory; the baseline is `vigie scan` of the same files (matching only, no
# store), run the same way.
# Usage: ops/bench/ingest-bench.sh [COUNT]   (results in ops/bench/out/ingest.txt)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${1:-100000}
out=ops/bench/out
mkdir -p "$out"
[ -d "$out/posts-$count" ] || { python3 ops/bench/gen_posts.py "$out/tmp-$count" "$count" && mv "$out/tmp-$count/posts" "$out/posts-$count"; }
cargo build --release --locked -p vigie-cli
bin=${CARGO_TARGET_DIR:-target}/release/vigie
input_bytes=$(du -sb "$out/posts-$count" | cut -f1)
# Warm the page cache so that both runs read from memory.
cat $(find "$out/posts-$count" -type f | head -1) >/dev/null
find "$out/posts-$count" -type f -print0 | xargs -0 cat >/dev/null

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >"$out/$label.stdout"
  read -r secs rss_kb <"$out/time.txt"
  echo "$label $secs $rss_kb"
}
store=$(mktemp -d /var/tmp/vigie-ingest-bench.XXXXXX)
trap 'rm -rf "$store"' EXIT
{
  echo "ingest benchmark, $count posts, $input_bytes bytes, $(nproc) cores, $(date -u +%FT%TZ)"
  read -r _ scan_s scan_kb < <(measure scan "$bin" scan --json "$out/posts-$count")
  read -r _ ingest_s ingest_kb < <(measure ingest "$bin" --store "$store/s" ingest --json "$out/posts-$count")
  distinct=$(tail -1 "$out/ingest.stdout" | python3 -c 'import json,sys; print(json.load(sys.stdin)["new_snapshots"])')
  disk=$(du -sb "$store/s/db" | cut -f1)
  python3 - "$count" "$input_bytes" "$scan_s" "$scan_kb" "$ingest_s" "$ingest_kb" "$distinct" "$disk" <<'PY'
import sys
count, inp, scan_s, scan_kb, ing_s, ing_kb, distinct, disk = sys.argv[1:]
count, inp, distinct, disk = int(count), int(inp), int(distinct), int(disk)
scan_s, ing_s = float(scan_s), float(ing_s)
print(f"baseline vigie scan (matching only): {scan_s:.2f} s, {count/scan_s:,.0f} docs/s, peak RSS {int(scan_kb)/1024:.0f} MB")
print(f"vigie ingest (matching + store):     {ing_s:.2f} s, {count/ing_s:,.0f} docs/s, peak RSS {int(ing_kb)/1024:.0f} MB")
print(f"ratio ingest/scan throughput: {scan_s/ing_s:.2f}")
print(f"distinct documents: {distinct}; store on disk: {disk:,} bytes = {disk/distinct:,.0f} bytes per distinct document; raw input {inp:,} bytes; store/input = {disk/inp:.2f}")
PY
} | tee "$out/ingest.txt"
