#!/usr/bin/env bash
# Installs the Debian packages a fresh machine of this kind lacks (sourced by ops/test.sh and
# ops/demo.sh). RocksDB's bindings need libclang; the RFC 3161 code links OpenSSL; the tests
# use python3 (the local time-stamp authority, the webhook receiver, JSON Schema checks with
# python3-jsonschema), openssl (certificates, HMAC checks), tar and sha256sum; https (webhooks,
# previews, time-stamps) checks certificates against ca-certificates; the digest test
# renders HTML in headless chromium; the export tests load MISP and STIX output with pymisp and
# stix2 (from PyPI); the console's OpenID Connect test runs oidc-provider-mock (PyPI); the
# Tor lab (ops/lab, its end-to-end test and the demo) runs Debian's tor.
need_apt=()
for pkg in libclang-dev libssl-dev pkg-config python3 openssl ca-certificates tar coreutils chromium tor nats-server; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ops/deps.sh: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q "${need_apt[@]}"
fi
# The alert payload test validates against ops/schemas with Python's jsonschema; `python3` may
# be Debian's (the apt package serves it) or another install (then pip from PyPI).
if ! python3 -c 'import jsonschema' 2>/dev/null; then
  if ! dpkg-query -W -f='${Status}' python3-jsonschema 2>/dev/null | grep -q "install ok installed"; then
    echo "ops/deps.sh: installing python3-jsonschema" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-jsonschema || true
  fi
  python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema 2>/dev/null \
    || python3 -m pip install -q --break-system-packages jsonschema
fi
# The console's OpenID Connect sign-in is tested against oidc-provider-mock (PyPI; authlib
# and Flask underneath), run on a loopback port by the handler test.
if ! python3 -c 'import oidc_provider_mock' 2>/dev/null; then
  echo "ops/deps.sh: installing oidc-provider-mock from PyPI" >&2
  python3 -m pip install -q 'oidc-provider-mock==0.3.4' 2>/dev/null \
    || python3 -m pip install -q --break-system-packages 'oidc-provider-mock==0.3.4'
fi
if ! python3 -c 'import pymisp, stix2' 2>/dev/null; then
  echo "ops/deps.sh: installing pymisp and stix2 from PyPI" >&2
  python3 -m pip install -q pymisp stix2 2>/dev/null \
    || python3 -m pip install -q --break-system-packages pymisp stix2
fi
command -v cargo >/dev/null 2>&1 || { echo "ops/deps.sh: cargo is missing (rustup toolchain expected)" >&2; exit 2; }
# The console's browser tests (tests/console) drive Debian's chromium with playwright-core
# from npm (no browser download): node and npm from Debian, then `npm ci` from the lock file.
if ! command -v npm >/dev/null 2>&1; then
  echo "ops/deps.sh: installing nodejs and npm" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -d "$root_dir/tests/console/node_modules/playwright-core" ]; then
  (cd "$root_dir/tests/console" && npm ci --no-audit --no-fund --silent)
fi
