#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine of this kind: installs what it lacks, then
# `cargo test`. The README's test command; `.ci/run` calls it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

source "$root/ops/deps.sh"
if [ ! -d "$root/../shared/seeds" ]; then
  echo "ops/test.sh: ../shared/seeds not found beside the repository; the seed tests need it" >&2
  exit 2
fi
cargo test --workspace --locked "$@"
