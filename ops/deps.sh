#!/usr/bin/env bash
# Installs the Debian packages a fresh machine of this kind lacks (sourced by ops/test.sh and
# ops/demo.sh). RocksDB's bindings need libclang; the RFC 3161 code links OpenSSL; the tests
# use python3 (the local time-stamp authority), openssl (its certificates), tar and sha256sum.
need_apt=()
for pkg in libclang-dev libssl-dev pkg-config python3 openssl tar coreutils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ops/deps.sh: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q "${need_apt[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "ops/deps.sh: cargo is missing (rustup toolchain expected)" >&2; exit 2; }
