#!/usr/bin/env bash
# Builds the README's example digest: the fixture posts ingested at dates spread over five
# weeks of autumn 2026 into a scratch store, `vigie digest` of week 2026-W47 (HTML, French),
# and a headless-Chromium screenshot of it.
# Usage: ops/digest-example.sh [OUT_DIR]   (default ops/digest-example/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source "$root/ops/deps.sh"
out=$(realpath -m "${1:-ops/digest-example}")
mkdir -p "$out"
cargo build --release --locked -q --workspace
vigie=$(realpath "${CARGO_TARGET_DIR:-target}")/release/vigie
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
p=tests/fixtures/posts
r=tests/fixtures/reposts
ingest() { "$vigie" --store "$store/s" ingest --seen-at "$1" --source "$2" "${@:3}" >/dev/null; }
ingest 2026-10-06T08:00:00Z forum-exploit "$p/fr_dump_gratuit.txt"
ingest 2026-10-20T09:00:00Z forum-exploit "$p/fr_dump_sql.txt" "$p/ru_pharmagest.txt"
ingest 2026-11-05T09:00:00Z telegram:medleaks "$p/en_telegram_teaser.txt" "$p/fr_comptes_ameli.txt"
ingest 2026-11-11T09:00:00Z leaksite-lockbit "$p/leaksite_dedalus.txt"
ingest 2026-11-12T10:00:00Z forum-breach "$r/forum_a_original.txt"
ingest 2026-11-17T08:30:00Z forum-exploit "$p/fr_medecindirect_vente.txt" "$p/en_chu_access.html"
ingest 2026-11-18T09:00:00Z leaksite-lockbit "$p/leaksite_cerballiance.html" "$p/en_victim_list.txt"
ingest 2026-11-19T14:00:00Z telegram:pharma-dumps "$p/en_jsonl_sample.txt" "$p/fr_pharmacie_en_ligne.txt"
ingest 2026-11-20T10:00:00Z forum-xss "$r/forum_b_repost_price.txt" "$r/template_other_sale_rennes.txt"
"$vigie" --store "$store/s" digest --week 2026-W47 --out "$out/digest-2026-W47.html"
"$vigie" --store "$store/s" digest --week 2026-W47 --format md --out "$out/digest-2026-W47.md"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,2800 \
  --screenshot="$out/digest-2026-W47.png" "file://$out/digest-2026-W47.html" 2>/dev/null
echo "wrote $out/digest-2026-W47.{html,md,png}"
