#!/usr/bin/env bash
# Benchmark: `provision db create` (a clone of the template) versus
# provisioning the same database from scratch (`CREATE DATABASE` + `provision
# up --no-verify`), with the shipped tenants.toml (3 tenants).
# Reports the template build once, then medians: N clones (target <= 150 ms)
# and M from-scratch runs, and their ratio.
# Then the pool (issue 16): K × `provision db create --pool S` with a warm
# pool (a spare renamed) against K × the raw `CREATE DATABASE … TEMPLATE …
# STRATEGY FILE_COPY` through psql, interleaved in the same run; target: the
# pool's median <= 0.2 × the raw statement's.
#
# Usage: bench/db_create.sh [N] [M] [K] [S]   (default 20, 5, 20 and 2)
# Uses BENCH_DATABASE_URL when set (a server it may create databases on);
# otherwise starts a throwaway embedded PostgreSQL in a temp dir under
# BENCH_TMPDIR (default /tmp; /dev/shm takes the disk out of the figures).
set -euo pipefail
N=${1:-20}
M=${2:-5}
K=${3:-20}
S=${4:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/provision-bench-XXXXXX")
chmod 755 "$work"
cleanup() {
  if [ -z "${BENCH_DATABASE_URL:-}" ]; then (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true); fi
  rm -rf "$work"
}
trap cleanup EXIT
# The shipped tenants, their templates in the repository; the run's own tag
# keeps the template hash (so the template) this run's own on a shared server.
sed "s|^templates = .*|templates = \"$repo/templates\"|" "$repo/tenants.toml" > "$work/tenants.toml"
tag=$(basename "$work" | tr 'A-Z-' 'a-z_')
printf '# bench run %s\n' "$tag" >> "$work/tenants.toml"
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  export DATABASE_URL="$BENCH_DATABASE_URL"
else
  "$bin" -q sandbox start >/dev/null
  export DATABASE_URL=$("$bin" sandbox url)
fi
# DATABASE_URL with another database (URL or key=value form).
url_of() {
  case "$DATABASE_URL" in
    *://*) local base=${DATABASE_URL%%\?*} query=""
           [ "$base" != "$DATABASE_URL" ] && query="?${DATABASE_URL#*\?}"
           local auth=${base#*://}; local scheme=${base%%://*}
           echo "$scheme://${auth%%/*}/$1$query" ;;
    *) echo "$DATABASE_URL dbname=$1" ;;
  esac
}
admin=$(url_of postgres)

now_ns() { date +%s%N; }
t0=$(now_ns)
template=$("$bin" --json db create "${tag}_ci_0" 2>/dev/null | sed -n 's/.*"template": "\(provision_tpl_[0-9a-f]*\)".*/\1/p')
t1=$(now_ns)
build_ms=$(( (t1 - t0) / 1000000 ))

: > clone.txt; : > scratch.txt
for i in $(seq 1 "$N"); do
  t0=$(now_ns); "$bin" -q db create "${tag}_ci_$i" >/dev/null; t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> clone.txt
done
for i in $(seq 1 "$M"); do
  t0=$(now_ns)
  psql -X -q -v ON_ERROR_STOP=1 -d "$admin" -c "CREATE DATABASE ${tag}_scratch_$i"
  DATABASE_URL=$(url_of "${tag}_scratch_$i") "$bin" -q up --no-verify 2>/dev/null
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> scratch.txt
done
# The pool. Before each timed step the pool is full and no refill runs (the
# refill a take starts copies the template: it would weigh on whichever
# step came next), so a take and the raw statement start from the same
# quiet server. "Warm" is that state: a CI job finds its spare made while
# the previous job ran.
spares="SELECT count(*) FROM pg_database WHERE starts_with(datname, '${template}_spare_')"
refilling="SELECT count(*) FROM pg_stat_activity WHERE application_name = 'provision' AND pid <> pg_backend_pid()"
settle() {
  local waited=0
  until [ "$(psql -X -At -d "$admin" -c "$spares")" = "$S" ] && [ "$(psql -X -At -d "$admin" -c "$refilling")" = 0 ]; do
    sleep 0.05; waited=$((waited + 1))
    [ "$waited" -lt 2400 ] || { echo "the pool did not refill to $S within 2 minutes" >&2; exit 1; }
  done
}
"$bin" -q db refill --pool "$S"
: > pool.txt; : > raw.txt; : > raw_statement.txt
for i in $(seq 1 "$K"); do
  settle
  t0=$(now_ns); "$bin" --json db create "${tag}_pool_$i" --pool "$S" > "pool_$i.json"; t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> pool.txt
  settle
  t0=$(now_ns)
  timing=$(psql -X -q -v ON_ERROR_STOP=1 -d "$admin" -c '\timing on' \
    -c "CREATE DATABASE ${tag}_raw_$i TEMPLATE $template STRATEGY FILE_COPY")
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> raw.txt
  echo "$timing" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{printf "%d\n", $1 * 1000}' >> raw_statement.txt
done
took=$(cat pool_*.json | grep -c '"spare": "provision_tpl_' || true)
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
clone=$(median clone.txt); scratch=$(median scratch.txt)
# The floor a clone cannot beat on this file system: `cp -r` of the
# template's directory (the sandbox only: its files are local).
floor=""
if [ -z "${BENCH_DATABASE_URL:-}" ]; then
  oid=$(psql -X -At -d "$admin" -c "SELECT oid FROM pg_database WHERE datname = '$template'")
  : > cp.txt
  for i in 1 2 3 4 5; do
    t0=$(now_ns); cp -r "$work/.provision/data/base/$oid" "$work/cp_$i"; t1=$(now_ns)
    echo $(( (t1 - t0) / 1000 )) >> cp.txt; rm -rf "$work/cp_$i"
  done
  floor=$(median cp.txt)
fi
# Same tenants, same catalog: a clone and a scratch database hold as many relations.
count="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE '%\\_schema'"
rel_clone=$(psql -X -At -d "$(url_of "${tag}_ci_1")" -c "$count")
rel_scratch=$(psql -X -At -d "$(url_of "${tag}_scratch_1")" -c "$count")
rel_pool=$(psql -X -At -d "$(url_of "${tag}_pool_1")" -c "$count")
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  for i in $(seq 0 "$N"); do "$bin" -q db drop "${tag}_ci_$i"; done
  for i in $(seq 1 "$M"); do psql -X -q -d "$admin" -c "DROP DATABASE ${tag}_scratch_$i"; done
  for i in $(seq 1 "$K"); do "$bin" -q db drop "${tag}_pool_$i"; psql -X -q -d "$admin" -c "DROP DATABASE ${tag}_raw_$i"; done
  settle; "$bin" -q db drop --spares
  psql -X -q -d "$admin" -c "ALTER DATABASE $template IS_TEMPLATE false" -c "DROP DATABASE $template"
fi
echo "tenants: 3; tenant relations per database: clone $rel_clone, from scratch $rel_scratch, from the pool $rel_pool"
echo "first db create (builds $template, with verify): $build_ms ms"
low=$(sort -n clone.txt | head -1); high=$(sort -n clone.txt | tail -1)
echo "median provision db create (clone), $N runs: $(awk -v t="$clone" 'BEGIN {printf "%.1f", t/1000}') ms  (target <= 150 ms; min $(awk -v t="$low" 'BEGIN {printf "%.1f", t/1000}'), max $(awk -v t="$high" 'BEGIN {printf "%.1f", t/1000}'))"
if [ -n "$floor" ]; then
  echo "median cp -r of the template's directory ($(ls "$work/.provision/data/base/$oid" | wc -l) files), 5 runs: $(awk -v t="$floor" 'BEGIN {printf "%.1f", t/1000}') ms"
fi
echo "median CREATE DATABASE + provision up --no-verify, $M runs: $(awk -v b="$scratch" 'BEGIN {printf "%.1f", b/1000}') ms"
echo "ratio (from scratch / clone): $(awk -v t="$clone" -v b="$scratch" 'BEGIN {printf "%.1f", b/t}')x"
pool=$(median pool.txt); raw=$(median raw.txt); raw_stmt=$(median raw_statement.txt)
ms() { awk -v t="$1" 'BEGIN {printf "%.1f", t/1000}'; }
echo "pool of $S: $took of $K db create took a spare"
echo "median provision db create --pool $S (warm pool), $K runs: $(ms "$pool") ms  (min $(ms "$(sort -n pool.txt | head -1)"), max $(ms "$(sort -n pool.txt | tail -1)"))"
echo "median psql -c 'CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY', $K runs: $(ms "$raw") ms  (the statement alone, psql's \\timing: $(ms "$raw_stmt") ms)"
echo "ratio (pool / raw): $(awk -v p="$pool" -v r="$raw" 'BEGIN {printf "%.2f", p/r}')x  (target <= 0.2x; against the statement alone: $(awk -v p="$pool" -v r="$raw_stmt" 'BEGIN {printf "%.2f", p/r}')x)"
