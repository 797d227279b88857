#!/usr/bin/env bash
# Telegram import benchmark: `vigie import telegram-export` of a generated COUNT-message export
# into a fresh store, matching on. Baseline: `vigie ingest` of the same message texts as one
# file each into another fresh store, run the same way.
# Usage: ops/bench/telegram-import-bench.sh [COUNT]   (results in ops/bench/out/telegram-import.txt)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${1:-100000}
out=ops/bench/out
mkdir -p "$out"
data="$out/telegram-$count"
[ -f "$data/result.json" ] || python3 ops/bench/gen_telegram_export.py "$data" "$count"
cargo build --release --locked -q --workspace
bin=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie
store=$(mktemp -d /var/tmp/vigie-tg-bench.XXXXXX)
trap 'rm -rf "$store"' EXIT
cat "$data/result.json" >/dev/null
find "$data/files-as-posts" -type f -print0 | xargs -0 cat >/dev/null
{
  echo "telegram import benchmark, $count messages, $(du -sb "$data/result.json" | cut -f1) bytes of JSON, $(nproc) cores, $(date -u +%FT%TZ)"
  /usr/bin/time -f "%e %M" -o "$out/time-import.txt" "$bin" --store "$store/a" import telegram-export --json "$data/result.json" >"$out/import.json"
  /usr/bin/time -f "%e %M" -o "$out/time-ingest.txt" "$bin" --store "$store/b" ingest --json "$data/files-as-posts" >"$out/ingest.stdout"
  python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
imp = json.load(open(f"{out}/import.json"))
i_s, i_kb = open(f"{out}/time-import.txt").read().split()
g_s, g_kb = open(f"{out}/time-ingest.txt").read().split()
n = imp["messages"]
print(f"vigie import telegram-export: {n} messages in {float(i_s):.2f} s = {n/float(i_s):,.0f} messages/s, peak RSS {int(i_kb)/1024:.0f} MB ({imp['incidents'].__len__()} incidents)")
print(f"baseline vigie ingest of the same texts as files: {float(g_s):.2f} s = {n/float(g_s):,.0f} documents/s, peak RSS {int(g_kb)/1024:.0f} MB")
print(f"ratio import/ingest throughput: {float(g_s)/float(i_s):.2f}")
PY
} | tee "$out/telegram-import.txt"
