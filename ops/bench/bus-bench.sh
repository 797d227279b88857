#!/usr/bin/env bash
# JetStream benchmark: the ingest benchmark's posts (ops/bench/gen_posts.py) recorded through
# NATS JetStream on loopback, against the same ingest in one process, in the same run.
#
#   one process:  vigie ingest --json POSTS                       (read, match, store)
#   bus:          vigie run --bus URL  (recorder, started first)  +  vigie ingest --bus URL POSTS
#                 timed from the start of the publish until the stream is empty (every
#                 event recorded and acknowledged; a work-queue stream drops acked messages).
#
# Reports documents/s of both, their ratio, the publish alone, and checks that both stores
# hold the same number of snapshots. A private nats-server (JetStream, file storage in a temp
# dir) listens on 127.0.0.1 only.
# Usage: ops/bench/bus-bench.sh [COUNT]   (results in ops/bench/out/bus.txt)
#   BIN=path/to/vigie   use this release binary instead of building one
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${1:-100000}
source ops/bench/posts-and-binary.sh
nats=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$nats" ] || { echo "nats-server missing: run ops/deps.sh" >&2; exit 2; }

work=$(mktemp -d /var/tmp/vigie-bus-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
monitor=$(free_port)
cat >"$work/nats.conf" <<EOF
listen: 127.0.0.1:$port
http: 127.0.0.1:$monitor
jetstream { store_dir: "$work/js" }
EOF
"$nats" -c "$work/nats.conf" >"$work/nats.log" 2>&1 &
pids+=($!)
url="nats://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$monitor/healthz" >/dev/null && break
  sleep 0.1
done
printf '[bus]\n' >"$work/vigie.toml"
# Messages left in the stream (a work queue: acknowledged messages are removed).
in_stream() {
  curl -sf "http://127.0.0.1:$monitor/jsz?streams=true" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(s.get("state",{}).get("messages",0) for a in d.get("account_details",[]) for s in a.get("stream_detail",[])))'
}
now() { date +%s.%N; }
# Snapshots and sightings of a store, and whether its custody chain verifies (not timed).
contents() { "$bin" --config "$work/vigie.toml" --store "$1" evidence verify --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["snapshots"], "snapshots,", d["sightings"], "sightings, verify", "ok" if d["ok"] else "FAILED")'; }

{
  echo "bus benchmark, $count posts, $(nproc) cores, commit $commit, $(date -u +%FT%TZ), nats-server $("$nats" --version | awk '{print $NF}')"
  t0=$(now)
  "$bin" --config "$work/vigie.toml" --store "$work/one" ingest --json "$out/posts-$count" >"$out/bus-one.stdout"
  t1=$(now)
  "$bin" --config "$work/vigie.toml" --store "$work/bus" run --bus "$url" 2>"$work/recorder.log" &
  recorder=$!
  pids+=($recorder)
  sleep 2 # the recorder creates the stream and its consumer
  t2=$(now)
  "$bin" --config "$work/vigie.toml" ingest --bus "$url" "$out/posts-$count" >"$out/bus-publish.stdout"
  t3=$(now)
  while [ "$(in_stream)" != 0 ]; do sleep 0.05; done
  t4=$(now)
  kill -TERM "$recorder"
  wait "$recorder" || true
  one=$(contents "$work/one")
  bus=$(contents "$work/bus")
  python3 - "$count" "$t0" "$t1" "$t2" "$t3" "$t4" "$one" "$bus" <<'PY'
import sys
count = int(sys.argv[1])
t0, t1, t2, t3, t4 = map(float, sys.argv[2:7])
one, bus = sys.argv[7], sys.argv[8]
single, publish, through = t1 - t0, t3 - t2, t4 - t2
print(f"one process, vigie ingest --json:          {single:.2f} s, {count/single:,.0f} docs/s")
print(f"through JetStream (publish -> stream empty): {through:.2f} s, {count/through:,.0f} docs/s")
print(f"  of which publishing (vigie ingest --bus):  {publish:.2f} s, {count/publish:,.0f} docs/s; recorder behind by {t4 - t3:.2f} s")
print(f"ratio bus/one-process throughput: {single/through:.2f}")
print(f"one process: {one}; through the bus: {bus}: {'same' if one == bus else 'DIFFERENT'}")
PY
} | tee "$out/bus.txt"
