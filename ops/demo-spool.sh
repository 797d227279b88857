#!/usr/bin/env bash
# The main job, on this machine alone: a local webhook receiver (it verifies each alert's
# HMAC signature with Python's own hmac and prints it), `vigie run` watching a spool directory,
# and example leak-market posts dropped into the spool one by one. Each post is matched,
# recorded in the evidence store (default storage/), grouped into incidents, and the alerts
# the store decides are signed, delivered and printed by the receiver. Then the incidents are
# listed and the chain of custody verified.
#
# Usage: ops/demo-spool.sh [--follow] [STORE_DIR]   (ops/demo.sh is the Tor-lab main job)
#   --follow  keep `vigie run` going after the examples (drop files into STORE_DIR/../spool-demo
#             or the printed spool path); Ctrl-C stops it cleanly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source "$root/ops/deps.sh"
follow=0
if [ "${1:-}" = "--follow" ]; then follow=1; shift; fi
store=$(realpath -m "${1:-storage}")
cargo build --release --locked -q --workspace
vigie=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie

work=$(mktemp -d)
spool="$work/spool"
mkdir -p "$spool"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export VIGIE_DEMO_SECRET=$(openssl rand -hex 24)
cat > "$work/vigie.toml" <<TOML
[store]
path = "$store"

[run]
spool = "$spool"
spool_source = "demo-forum"
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

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 tests/fixtures/webhook/receiver.py --port "$port" --secret-env VIGIE_DEMO_SECRET \
  --log "$work/receiver.log" --print 2>/dev/null &
pids+=($!)
RUST_LOG=${RUST_LOG:-info} "$vigie" --config "$work/vigie.toml" run 2> >(grep --line-buffered -E "recorded|delivered|WARN|ERROR" >&2) &
run_pid=$!
pids+=($run_pid)

echo "== vigie run: store $store, spool $spool, receiver 127.0.0.1:$port"
for f in tests/fixtures/posts/* tests/fixtures/reposts/*; do
  name=$(basename "$f")
  cp "$f" "$spool/.$name" && mv "$spool/.$name" "$spool/$name"
  echo "-- posted $name"
  sleep 0.3
done
# Wait until the spool is empty and the outbox has nothing pending (at most 60 s).
for _ in $(seq 1 120); do
  if [ -z "$(ls -A "$spool" | grep -v -e '^\.rejected$' -e '^rejected$' || true)" ] \
     && ! "$vigie" --config "$work/vigie.toml" alerts outbox 2>/dev/null | grep -q pending; then
    break
  fi
  sleep 0.5
done
if [ "$follow" = 1 ]; then
  echo "== following: drop files into $spool; Ctrl-C stops"
  trap 'kill -TERM $run_pid 2>/dev/null || true' INT
  wait "$run_pid" || true
else
  kill -TERM "$run_pid"
  wait "$run_pid" || true
fi
echo
echo "== vigie alerts list"
"$vigie" --config "$work/vigie.toml" alerts list || true
echo
echo "== vigie incidents list --severity high"
"$vigie" --store "$store" incidents list --severity high
echo
echo "== vigie evidence verify"
"$vigie" --store "$store" evidence verify
