#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine of this kind: installs what it lacks, then
# `cargo test`. The README's test command; `.ci/run` calls it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

need_apt=()
# Nothing beyond the toolchain is needed yet; later stages add their packages here
# (libclang-dev for RocksDB, tor for the lab network, chromium for the digest).
for tool in python3; do
  command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -q && apt-get install -y -q "${need_apt[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "ops/test.sh: cargo is missing (rustup toolchain expected)" >&2; exit 2; }
if [ ! -d "$root/../shared/seeds" ]; then
  echo "ops/test.sh: ../shared/seeds not found beside the repository; the seed tests need it" >&2
  exit 2
fi
cargo test --workspace --locked "$@"
