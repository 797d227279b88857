# Sourced by the benchmarks that read the generated forum posts: sets `out`, `posts` (COUNT
# posts from ops/bench/gen_posts.py, generated once), `bin` (the release vigie: $BIN, or built
# with --workspace, the feature set of every other build of the shared target directory) and
# `commit` (the commit measured, "+uncommitted changes" when the tree differs).
out=ops/bench/out
mkdir -p "$out"
posts="$out/posts-$count"
[ -d "$posts" ] || { python3 ops/bench/gen_posts.py "$out/tmp-$count" "$count" && mv "$out/tmp-$count/posts" "$posts"; }
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --workspace
  bin=${CARGO_TARGET_DIR:-target}/release/vigie
else
  bin=$BIN
fi
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.lock || echo "+uncommitted changes")
# Both commands compared read the posts from memory.
find "$posts" -type f -print0 | xargs -0 cat >/dev/null
