#!/usr/bin/env bash
# Benchmark: `provision db create` (a clone of the template) versus
# provisioning the same database from scratch (`CREATE DATABASE` + `provision
# up --no-verify`), with the shipped tenants.toml (3 tenants).
# Reports the template build once, then medians: N clones (target <= 150 ms)
# and M from-scratch runs, and their ratio.
#
# Usage: bench/db_create.sh [N] [M]   (default 20 and 5)
# Uses BENCH_DATABASE_URL when set (a server it may create databases on);
# otherwise starts a throwaway embedded PostgreSQL in a temp dir under
# BENCH_TMPDIR (default /tmp; /dev/shm takes the disk out of the figures).
set -euo pipefail
N=${1:-20}
M=${2:-5}
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
  t0=$(now_ns); "$bin" -q db create "${tag}_ci_$i"; t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> clone.txt
done
for i in $(seq 1 "$M"); do
  t0=$(now_ns)
  psql -X -q -v ON_ERROR_STOP=1 -d "$admin" -c "CREATE DATABASE ${tag}_scratch_$i"
  DATABASE_URL=$(url_of "${tag}_scratch_$i") "$bin" -q up --no-verify 2>/dev/null
  t1=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> scratch.txt
done
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
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  for i in $(seq 0 "$N"); do "$bin" -q db drop "${tag}_ci_$i"; done
  for i in $(seq 1 "$M"); do psql -X -q -d "$admin" -c "DROP DATABASE ${tag}_scratch_$i"; done
  psql -X -q -d "$admin" -c "ALTER DATABASE $template IS_TEMPLATE false" -c "DROP DATABASE $template"
fi
echo "tenants: 3; tenant relations per database: clone $rel_clone, from scratch $rel_scratch"
echo "first db create (builds $template, with verify): $build_ms ms"
low=$(sort -n clone.txt | head -1); high=$(sort -n clone.txt | tail -1)
echo "median provision db create (clone), $N runs: $(awk -v t="$clone" 'BEGIN {printf "%.1f", t/1000}') ms  (target <= 150 ms; min $(awk -v t="$low" 'BEGIN {printf "%.1f", t/1000}'), max $(awk -v t="$high" 'BEGIN {printf "%.1f", t/1000}'))"
if [ -n "$floor" ]; then
  echo "median cp -r of the template's directory ($(ls "$work/.provision/data/base/$oid" | wc -l) files), 5 runs: $(awk -v t="$floor" 'BEGIN {printf "%.1f", t/1000}') ms"
fi
echo "median CREATE DATABASE + provision up --no-verify, $M runs: $(awk -v b="$scratch" 'BEGIN {printf "%.1f", b/1000}') ms"
echo "ratio (from scratch / clone): $(awk -v t="$clone" -v b="$scratch" 'BEGIN {printf "%.1f", b/t}')x"
