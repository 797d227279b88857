#!/usr/bin/env bash
# Whole-process benchmark of `vigie scan` against grep, ripgrep and Hyperscan on the same text
# and the same names (the shipped watchlist plus 5,000 generated organisations).
#
#   ops/bench/scan-bench.sh            # 200 MB corpus, best of 3 runs per tool
#   SIZE_MB=50 RUNS=1 ops/bench/scan-bench.sh
#
# Installs what it needs on first use: ripgrep from crates.io (not Debian's old one) under
# /var/tmp/vigie-bench-tools, the `hyperscan` Python package from PyPI, GNU time.
# Everything reads local files; nothing touches the network but the package registries.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$root/ops/bench/out}
size=${SIZE_MB:-200}
runs=${RUNS:-3}
tools=/var/tmp/vigie-bench-tools
mkdir -p "$out"

if [ ! -x /usr/bin/time ]; then apt-get install -y -q time >/dev/null; fi
if [ ! -f "$out/corpus.txt" ] || [ "$(stat -c %s "$out/corpus.txt")" -lt $((size * 1000000)) ]; then
  python3 "$root/ops/bench/gen_corpus.py" "$out" "$size"
fi
cargo build --release -q --workspace --manifest-path "$root/Cargo.toml"
target=${CARGO_TARGET_DIR:-$root/target}
vigie="$target/release/vigie"
rg="$tools/bin/rg"
[ -x "$rg" ] || cargo install -q ripgrep --root "$tools"
python3 -c 'import hyperscan' 2>/dev/null || pip install -q hyperscan

corpus="$out/corpus.txt"
bytes=$(stat -c %s "$corpus")
echo "corpus: $bytes bytes, $(wc -l < "$out/names.txt") literals; best of $runs runs; $(nproc) cores"

# best_run NAME CMD... : runs CMD $runs times, keeps the fastest; prints seconds and peak RSS.
best_run() {
  local name=$1; shift
  local best_s="" best_kb=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/$name.out" 2>/dev/null || true
    read -r s kb < <(tail -n 1 "$out/time.txt")
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; best_kb=$kb; fi
  done
  echo "$name $best_s $best_kb"
}

results=$(
  best_run vigie-1t "$vigie" scan --json --threads 1 --watchlists "$root/watchlists" --watchlists "$out/generated.toml" "$corpus"
  best_run vigie-2t "$vigie" scan --json --threads 2 --watchlists "$root/watchlists" --watchlists "$out/generated.toml" "$corpus"
  best_run vigie-startup "$vigie" scan --threads 1 --watchlists "$root/watchlists" --watchlists "$out/generated.toml" /dev/null
  LC_ALL=C best_run grep env LC_ALL=C grep -F -i -c -f "$out/names.txt" "$corpus"
  best_run rg "$rg" -F -i -c -f "$out/names.txt" "$corpus"
  best_run hyperscan python3 "$root/ops/bench/hs_scan.py" "$out/names.txt" "$corpus"
)
echo "$results" | awk -v bytes="$bytes" '
  { s[$1] = $2; kb[$1] = $3; order[++n] = $1 }
  END {
    printf "%-14s %9s %10s %12s %14s\n", "tool", "seconds", "MB/s", "peak MB", "vigie-1t / it"
    for (i = 1; i <= n; i++) {
      t = order[i]; if (t == "vigie-startup") continue
      mbs = bytes / 1e6 / s[t]
      printf "%-14s %9.2f %10.1f %12.1f %14.2f\n", t, s[t], mbs, kb[t] / 1024, (bytes / 1e6 / s["vigie-1t"]) / mbs
    }
    printf "vigie start-up (compiling %s): %.2f s, %.1f MB; vigie-1t after start-up: %.1f MB/s\n",
      "the watchlists", s["vigie-startup"], kb["vigie-startup"] / 1024, bytes / 1e6 / (s["vigie-1t"] - s["vigie-startup"])
  }'
