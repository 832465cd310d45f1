#!/usr/bin/env bash
# Benchmark: `provision seed --tenant lic --sample N` (default 100000 policies,
# with their holders, agents, users, payments and events) into a freshly
# provisioned tenant, with this tree's binary ("new") and a previous
# revision's ("old", before sample data moved into the blueprint pack), on
# the same server in the same run. Each round seeds a fresh database with
# each binary, alternating; the best time of each side counts. Prints both
# times and the ratio new/old (target <= 1.0).
#
# Usage: bench/seed.sh [N] [ROUNDS]   (defaults 100000, 2)
#   OLD_REV  git revision to build as "old" (default: the last commit before
#            the pack's sample/, i.e. the parent of the first commit that added
#            templates/agent_mitra/sample).
#   OLD_BIN  use this binary as "old" instead of building (OLD_REV still gives
#            its templates/).
# Uses BENCH_DATABASE_URL when set (a server where it may create databases);
# otherwise starts a throwaway embedded PostgreSQL in a temp dir.
set -euo pipefail
# A failing side inside $(run_side …) must stop the script, not print a ratio.
shopt -s inherit_errexit
N=${1:-100000}
ROUNDS=${2:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --locked --manifest-path "$repo/Cargo.toml"
new_bin="$repo/target/release/provision"

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
first_pack_commit=$(git -C "$repo" log --format=%H --diff-filter=A -- templates/agent_mitra/sample | tail -1)
OLD_REV=${OLD_REV:-${first_pack_commit:+$first_pack_commit~1}}
OLD_REV=${OLD_REV:-HEAD}
git -C "$repo" worktree add --detach --quiet "$work/old-src" "$OLD_REV"
cleanup() {
  if [ -z "${BENCH_DATABASE_URL:-}" ]; then (cd "$work/new" && "$new_bin" -q sandbox stop >/dev/null 2>&1 || true); fi
  git -C "$repo" worktree remove --force "$work/old-src" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${OLD_BIN:-}" ]; then
  echo "building $OLD_REV ($(git -C "$repo" log -1 --format='%h %s' "$OLD_REV" | cut -c1-70))" >&2
  CARGO_TARGET_DIR="${OLD_TARGET_DIR:-/tmp/provision-bench-old-target}" \
    cargo build --release --quiet --locked --manifest-path "$work/old-src/Cargo.toml"
  OLD_BIN="${OLD_TARGET_DIR:-/tmp/provision-bench-old-target}/release/provision"
fi

# One workspace per side, each reading its own revision's templates/ from
# disk (the new side's files, not what its binary embedded at build time).
mkdir -p "$work/new" "$work/old"
# Several packs ship since issue 13, so the new side names its pack.
printf 'templates = "%s/templates"\n\n[defaults]\nblueprint = "agent_mitra"\n\n[tenants.lic]\nname = "Life Insurance Corporation of India"\n' \
  "$repo" > "$work/new/tenants.toml"
printf 'templates = "%s/templates"\n\n[tenants.lic]\nname = "Life Insurance Corporation of India"\n' \
  "$work/old-src" > "$work/old/tenants.toml"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  server_url="$BENCH_DATABASE_URL"
else
  (cd "$work/new" && "$new_bin" -q sandbox start >/dev/null)
  server_url=$(cd "$work/new" && "$new_bin" sandbox url)
fi
# The URL of database $1 on the same server.
db_url() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$server_url" "$1"; }

now_ns() { date +%s%N; }
seconds() { awk -v ns="$1" 'BEGIN {printf "%.2f", ns/1e9}'; }
# Seeds a fresh database with one side's binary; prints the seed's nanoseconds.
run_side() {
  local side=$1 bin=$2 round=$3 db="bench_seed_${1}_$3"
  psql -X -q -d "$server_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  local url; url=$(db_url "$db")
  (cd "$work/$side" && DATABASE_URL="$url" "$bin" -q up >/dev/null 2> "$work/$side-up.err") \
    || { echo "$side: provision up failed:" >&2; cat "$work/$side-up.err" >&2; exit 1; }
  psql -X -q -d "$url" -c "CHECKPOINT" >/dev/null
  local t0 t1
  t0=$(now_ns)
  (cd "$work/$side" && DATABASE_URL="$url" "$bin" -v seed --tenant lic --sample "$N" --rng-seed 1 \
    > "$work/$side-$round.txt" 2> "$work/$side-$round.phases") \
    || { echo "$side: provision seed failed:" >&2; cat "$work/$side-$round.phases" >&2; exit 1; }
  t1=$(now_ns)
  psql -X -q -d "$server_url" -c "DROP DATABASE $db" >/dev/null
  echo $((t1 - t0))
}

best_old=0 best_new=0
for round in $(seq 1 "$ROUNDS"); do
  old_ns=$(run_side old "$OLD_BIN" "$round")
  new_ns=$(run_side new "$new_bin" "$round")
  echo "round $round: old $(seconds "$old_ns") s, new $(seconds "$new_ns") s"
  if [ "$best_old" = 0 ] || [ "$old_ns" -lt "$best_old" ]; then best_old=$old_ns; fi
  if [ "$best_new" = 0 ] || [ "$new_ns" -lt "$best_new" ]; then best_new=$new_ns; fi
done
echo "policies: $N (tenant lic), $ROUNDS rounds, old = $OLD_REV"
echo "old (Rust generator):      $(sed -n 1p "$work/old-$ROUNDS.txt" | sed 's/\x1b\[[0-9;]*m//g')"
echo "new (pack sample/ SQL):    $(sed -n 1p "$work/new-$ROUNDS.txt" | sed 's/\x1b\[[0-9;]*m//g')"
sed 's/^/new phase:/' "$work/new-$ROUNDS.phases" | grep -v 'connecting to' || true
echo "seed old: $(seconds "$best_old") s   new: $(seconds "$best_new") s   ratio new/old: $(awk -v a="$best_new" -v b="$best_old" 'BEGIN {printf "%.2f", a/b}')  (target <= 1.0)"
