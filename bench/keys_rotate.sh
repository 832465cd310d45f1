#!/usr/bin/env bash
# Benchmark: `provision keys rotate` against the naive rotation, a single
# `UPDATE … SET col = shared.encrypt(shared.decrypt(col, old), new)` of the
# whole table, in the same run on the same server: values re-encrypted per
# second on ROWS rows × 4 encrypted columns of the bench pack
# bench/keys_rotate/keybench (default 250000 rows = 1M values). Each round
# re-seeds the table under key A (not timed), then times the naive UPDATE
# and `keys rotate --batch N` for every N of BATCHES (alternating which goes
# first), each from key A to key B on a freshly seeded, vacuumed table.
# keys rotate's time is the whole command: process start, census, sample,
# batches and the final proof. Prints each run and the best rate per side.
#
# Usage: bench/keys_rotate.sh [ROWS] [ROUNDS] [BATCHES]   (defaults 250000, 2, "1000 10000")
# Uses BENCH_DATABASE_URL when set (a server where it may create databases);
# otherwise starts a throwaway embedded PostgreSQL in a temp dir. The keys
# are throwaway files of this run (psql takes them as variables).
set -euo pipefail
ROWS=${1:-250000}
ROUNDS=${2:-2}
BATCHES=${3:-"1000 10000"}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --locked --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -z "${BENCH_DATABASE_URL:-}" ]; then (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true); fi
  rm -rf "$work"
}
trap cleanup EXIT
printf 'templates = "%s/bench/keys_rotate"\n\n[tenants.kb]\nname = "Key bench"\nblueprint = "keybench"\n' \
  "$repo" > "$work/tenants.toml"
(umask 077; openssl rand -base64 48 > "$work/a.key"; openssl rand -base64 48 > "$work/b.key")
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  server_url="$BENCH_DATABASE_URL"
else
  (cd "$work" && "$bin" -q sandbox start >/dev/null)
  server_url=$(cd "$work" && "$bin" sandbox url)
fi
db_url() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$server_url" "$1"; }
db=bench_keys_rotate
psql -X -q -d "$server_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
url=$(db_url "$db")
(cd "$work" && DATABASE_URL="$url" "$bin" -q up >/dev/null)
key_a=$(cat "$work/a.key") key_b=$(cat "$work/b.key")
values=$((ROWS * 4))

now_ns() { date +%s%N; }
rate() { awk -v n="$values" -v ns="$1" 'BEGIN {printf "%.0f", n / (ns / 1e9)}'; }
seed() {
  psql -X -q -v ON_ERROR_STOP=1 -d "$url" -v rows="$ROWS" -v key="$key_a" -f "$repo/bench/keys_rotate/seed.sql" >/dev/null
  psql -X -q -d "$url" -c "VACUUM ANALYZE kb_schema.people" -c "CHECKPOINT" >/dev/null
}
# Each run prints "<side> <nanoseconds>" and checks every value now names key B.
check_b() {
  local stale
  stale=$(psql -X -qAt -d "$url" -v key="$key_b" -c "SELECT count(*) FROM kb_schema.people, LATERAL (VALUES (full_name), (date_of_birth), (ssn), (phone)) v(x) WHERE shared.envelope_key_id(x) IS DISTINCT FROM shared.key_id('$key_b')")
  [ "$stale" = 0 ] || { echo "$1 left $stale values not under key B" >&2; exit 1; }
}
naive() {
  seed
  local t0 t1; t0=$(now_ns)
  psql -X -q -v ON_ERROR_STOP=1 -d "$url" -v old="$key_a" -v new="$key_b" -f "$repo/bench/keys_rotate/naive.sql" >/dev/null
  t1=$(now_ns); check_b naive; echo "naive $((t1 - t0))"
}
rotate() {
  seed
  local t0 t1; t0=$(now_ns)
  (cd "$work" && DATABASE_URL="$url" "$bin" -q keys rotate --tenant kb --from-key-file a.key --to-key-file b.key --batch "$1")
  t1=$(now_ns); check_b "batch $1"; echo "batch_$1 $((t1 - t0))"
}

results="$work/results.txt"
for round in $(seq 1 "$ROUNDS"); do
  runs=(naive); for n in $BATCHES; do runs+=("rotate $n"); done
  if [ $((round % 2)) = 0 ]; then runs=("${runs[@]:1}" naive); fi
  for run in "${runs[@]}"; do
    line=$($run); echo "$line" >> "$results"
    set -- $line; echo "round $round: $1 $(awk -v ns="$2" 'BEGIN {printf "%.2f", ns/1e9}') s, $(rate "$2") values/s" >&2
  done
done
echo "values: $values ($ROWS rows x 4 columns), rounds: $ROUNDS"
best_naive=$(awk '$1 == "naive" {print $2}' "$results" | sort -n | head -1)
echo "naive UPDATE per table: best $(rate "$best_naive") values/s"
for n in $BATCHES; do
  best=$(awk -v s="batch_$n" '$1 == s {print $2}' "$results" | sort -n | head -1)
  echo "keys rotate --batch $n: best $(rate "$best") values/s, $(awk -v a="$best_naive" -v b="$best" 'BEGIN {printf "%.2f", a / b}')x the naive rate"
done
