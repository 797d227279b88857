#!/usr/bin/env bash
# Chaos test of `vigie run` (release build), all on 127.0.0.1: a local forum read by the Tor
# collector in loopback mode, a spool directory, and a flaky webhook receiver (30 % of requests
# answered 500, some slowly, some connections dropped). `vigie run` is SIGKILLed at KILLS
# random moments (default 50) while posts arrive, and restarted each time; a final run lets
# deliveries finish. Then: every post recorded exactly once, `vigie evidence verify` passes,
# every alert accepted by the receiver (zero lost); duplicate POSTs per key are reported.
#
# Usage: ops/chaos.sh [KILLS] [--seed N] [--work DIR]   (details: ops/chaos.py --help)
# Prints a JSON summary; exit 0 when every invariant holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kills=50
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then kills=$1; shift; fi
if [ -z "${VIGIE_BIN:-}" ]; then
  source "$root/ops/deps.sh"
  cargo build --release --locked -q --workspace
  VIGIE_BIN=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie
fi
exec python3 "$root/ops/chaos.py" --vigie "$VIGIE_BIN" --kills "$kills" "$@"
