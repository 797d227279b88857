#!/usr/bin/env bash
# Ingest benchmark: 100,000 generated ~2 KB forum posts (30% exact duplicates, 10% near
# duplicates) into a fresh store, matching on. Reports in one run, on the same files and the
# same machine: `vigie scan --json` documents/s (matching only, no store: the baseline),
# `vigie ingest --json` documents/s (matching + the recorder's store writes), their ratio,
# bytes on disk per distinct document and peak memory; then `vigie evidence verify` of the
# store (not timed). RUNS=N repeats the pair N times (alternating) and also reports the median.
# Usage: ops/bench/ingest-bench.sh [COUNT]   (results in ops/bench/out/ingest.txt)
#   BIN=path/to/vigie   use this release binary instead of building one
#   THREADS=N           `vigie ingest --threads N` (default: the recorder's)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${1:-100000}
runs=${RUNS:-1}
source ops/bench/posts-and-binary.sh
[ -x /usr/bin/time ] || apt-get install -y -q time >/dev/null
input_bytes=$(du -sb "$out/posts-$count" | cut -f1)
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

measure() { # label, command... → seconds, peak RSS (KB), CPU seconds (user + system)
  local label=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$out/time.txt" "$@" >"$out/$label.stdout"
  read -r secs rss_kb user sys <"$out/time.txt"
  echo "$secs $rss_kb $(python3 -c "print($user + $sys)")"
}
work=$(mktemp -d /var/tmp/vigie-ingest-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
{
  echo "ingest benchmark, $count posts, $input_bytes bytes, $(nproc) cores, commit $commit, $(date -u +%FT%TZ)"
  : >"$out/runs.txt"
  for run in $(seq 1 "$runs"); do
    rm -rf "$work/s"
    read -r scan_s scan_kb scan_cpu < <(measure scan "$bin" scan --json "$out/posts-$count")
    read -r ingest_s ingest_kb ingest_cpu < <(measure ingest "$bin" --store "$work/s" ingest --json "${threads[@]}" "$out/posts-$count")
    echo "$scan_s $scan_kb $ingest_s $ingest_kb $scan_cpu $ingest_cpu" >>"$out/runs.txt"
  done
  distinct=$(tail -1 "$out/ingest.stdout" | python3 -c 'import json,sys; print(json.load(sys.stdin)["new_snapshots"])')
  disk=$(du -sb "$work/s/db" | cut -f1)
  # Flushes write level 0 uncompressed; the compression they leave is done by compactions.
  # Timed here, so that the ingest figure does not hide it.
  read -r compact_s compact_kb _ < <(measure compact "$bin" --store "$work/s" evidence compact)
  compacted=$(du -sb "$work/s/db" | cut -f1)
  python3 - "$count" "$input_bytes" "$distinct" "$disk" "$out/runs.txt" "$compact_s" "$compacted" <<'PY'
import statistics, sys
count, inp, distinct, disk = map(int, sys.argv[1:5])
runs = [list(map(float, line.split())) for line in open(sys.argv[5])]
compact_s, compacted = float(sys.argv[6]), int(sys.argv[7])
# Wall time moves with the load of the host; CPU time (user + system, all threads) less so.
for i, (scan_s, scan_kb, ing_s, ing_kb, scan_cpu, ing_cpu) in enumerate(runs, 1):
    label = f"run {i}: " if len(runs) > 1 else ""
    print(f"{label}baseline vigie scan --json (matching only): {scan_s:.2f} s, {count/scan_s:,.0f} docs/s, CPU {scan_cpu:.2f} s, peak RSS {scan_kb/1024:.0f} MB")
    print(f"{label}vigie ingest --json (matching + store):     {ing_s:.2f} s, {count/ing_s:,.0f} docs/s, CPU {ing_cpu:.2f} s, peak RSS {ing_kb/1024:.0f} MB")
    print(f"{label}ratio ingest/scan throughput: {scan_s/ing_s:.2f}")
if len(runs) > 1:
    scan = statistics.median(r[0] for r in runs)
    ing = statistics.median(r[2] for r in runs)
    ratio = statistics.median(r[0] / r[2] for r in runs)
    cpu_ratio = statistics.median(r[4] / r[5] for r in runs)
    print(f"median of {len(runs)}: scan {count/scan:,.0f} docs/s, ingest {count/ing:,.0f} docs/s, ratio {ratio:.2f}; CPU ratio scan/ingest {cpu_ratio:.2f}")
print(f"distinct documents: {distinct}; store on disk after the ingest: {disk:,} bytes = {disk/distinct:,.0f} bytes per distinct document; raw input {inp:,} bytes; store/input = {disk/inp:.2f}")
last = runs[-1]
print(f"vigie evidence compact afterwards (the compression flushes leave to compactions): {compact_s:.2f} s; "
      f"store on disk then: {compacted:,} bytes = {compacted/distinct:,.0f} bytes per distinct document, store/input = {compacted/inp:.2f}")
print(f"ingest + compaction of the last run: {last[2] + compact_s:.2f} s, {count/(last[2] + compact_s):,.0f} docs/s, ratio to scan {last[0]/(last[2] + compact_s):.2f}")
PY
  if "$bin" --store "$work/s" evidence verify >"$out/verify.stdout" 2>&1; then
    echo "evidence verify: ok"
  else
    echo "evidence verify: FAILED (see $out/verify.stdout)"
  fi
} | tee "$out/ingest.txt"
