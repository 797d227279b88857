#!/usr/bin/env bash
# The main job, on this machine alone: a private Tor network on 127.0.0.1 (ops/lab/lab.sh,
# Debian's tor) with onion services in front of a simulated leak forum (two mirrors, a
# members-only thread) and a ransomware leak site; `vigie run` crawling them over its embedded
# arti client; a local webhook receiver that verifies and prints every signed alert. Runs
# until Ctrl-C (or --seconds N), then shows the incidents, the sources' health, the onion
# addresses discovered and the chain-of-custody check, and stops the lab.
#
# Usage: ops/demo.sh [--seconds N] [STORE_DIR]     (default store: storage/)
# While it runs, in another terminal:
#   python3 ops/lab/site.py --root LAB/site --add-post 1 "Nouvel echantillon CHU de Nantes..."
#   python3 ops/lab/site.py --root LAB/site --layout v2      (the forum changes its HTML)
#   kill "$(cat LAB/site/forum1.pid)"                        (mirror 1 goes down)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source "$root/ops/deps.sh"
seconds=0
if [ "${1:-}" = "--seconds" ]; then seconds="$2"; shift 2; fi
store=$(realpath -m "${1:-storage}")
# --workspace: the same feature set as every other build of a shared target directory (a
# -p build unifies features differently and recompiles RocksDB).
cargo build --release --locked -q --workspace
vigie=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie

work=$(mktemp -d)
lab="$work/lab"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$root/ops/lab/lab.sh" stop "$lab" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting the Tor lab (3 authorities, 3 exits, onion services) in $lab"
bash ops/lab/lab.sh start "$lab" --base "${VIGIE_LAB_BASE:-17000}"
set -a; source "$lab/lab.env"; set +a

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export VIGIE_DEMO_SECRET=$(openssl rand -hex 24)
# The lab's own config (its forum and leak site as [[tor_source]]s), with this store, faster
# schedules and a recipient.
sed -e "s|^path = .*|path = \"$store\"|" -e 's/^interval_secs = .*/interval_secs = 20/' \
  "$lab/vigie.toml" > "$work/vigie.toml"
cat >> "$work/vigie.toml" <<TOML

[run]
poll_ms = 200

[delivery]
timeout_secs = 5
backoff_secs = 1

# The CERT's own catch-all recipient: every incident at or above medium.
[[recipient]]
id = "cert-sante"
url = "http://127.0.0.1:$port/vigie"
secret_env = "VIGIE_DEMO_SECRET"
catch_all = true
min_severity = "medium"
TOML

python3 tests/fixtures/webhook/receiver.py --port "$port" --secret-env VIGIE_DEMO_SECRET \
  --log "$work/receiver.log" --print 2>/dev/null &
pids+=($!)
# arti warns that a 6-relay network is small (harmless here); the lab keeps its warnings quiet.
RUST_LOG=${RUST_LOG:-info,tor_netdir=error,tor_circmgr=error} "$vigie" --config "$work/vigie.toml" run 2> >(grep --line-buffered -E \
  "bootstrapped|tor post recorded|tor source run finished|rotated|parser found nothing|delivered|WARN|ERROR" >&2) &
run_pid=$!
pids+=($run_pid)
echo "== vigie run: store $store, forum http://$LAB_FORUM1/ (mirror http://$LAB_FORUM2/),"
echo "   leak site http://$LAB_LEAK/, receiver 127.0.0.1:$port; Ctrl-C stops"
echo "   lab content: $lab/site (see the header of ops/demo.sh to change it live)"
if [ "$seconds" -gt 0 ]; then
  sleep "$seconds"
  kill -TERM "$run_pid"
else
  trap 'kill -TERM $run_pid 2>/dev/null || true' INT
fi
wait "$run_pid" || true
trap cleanup EXIT
echo
echo "== vigie alerts list"
"$vigie" --config "$work/vigie.toml" alerts list || echo "(alerts list failed: exit $?)"
echo
echo "== vigie incidents list"
"$vigie" --store "$store" incidents list || true
echo
echo "== vigie sources health"
"$vigie" --config "$work/vigie.toml" sources health || true
echo
echo "== vigie sources candidates"
"$vigie" --store "$store" sources candidates || true
echo
echo "== vigie evidence verify"
"$vigie" --store "$store" evidence verify
