#!/usr/bin/env bash
# Benchmark: `provision tenant add` versus `psql -X -1 -f` of the SQL that
# `provision tenant render` prints, on the same server, N tenants each
# (interleaved, so both see the same server state and cache warmth).
# Reports per-tenant medians and their ratio; the target is <= 1.15x.
#
# Usage: bench/tenant_add.sh [N]   (default 20)
# BENCH_BLUEPRINT=<name> measures that pack (default agent_mitra).
# PROVISION_PREVIOUS=<binary>: also times that binary's `tenant add` in the
# same interleaved loop (e.g. the previous commit's release build), so a
# change is compared in one run on the same server state.
# Uses BENCH_DATABASE_URL when set (a database it may fill with tenants);
# otherwise starts a throwaway embedded PostgreSQL in a temp dir.
set -euo pipefail
N=${1:-20}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -z "${BENCH_DATABASE_URL:-}" ]; then (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true); fi
  rm -rf "$work"
}
trap cleanup EXIT
printf 'templates = "%s/templates"\n' "$repo" > "$work/tenants.toml"
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  export DATABASE_URL="$BENCH_DATABASE_URL"
else
  "$bin" -q sandbox start >/dev/null
  export DATABASE_URL=$("$bin" sandbox url)
fi
"$bin" -q migrate

now_ns() { date +%s%N; }
bp=(--blueprint "${BENCH_BLUEPRINT:-agent_mitra}")
: > tool.txt; : > psql.txt; : > previous.txt
previous=${PROVISION_PREVIOUS:-}
for i in $(seq 1 "$N"); do
  "$bin" tenant render "p$i" --name "Psql $i" "${bp[@]}" > "p$i.sql"
  t0=$(now_ns); "$bin" -q tenant add "t$i" --name "Tool $i" --no-verify "${bp[@]}"; t1=$(now_ns)
  psql -X -q -1 -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f "p$i.sql" >/dev/null; t2=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> tool.txt
  echo $(( (t2 - t1) / 1000 )) >> psql.txt
  if [ -n "$previous" ]; then
    t3=$(now_ns); "$previous" -q tenant add "o$i" --name "Previous $i" --no-verify "${bp[@]}"; t4=$(now_ns)
    echo $(( (t4 - t3) / 1000 )) >> previous.txt
  fi
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
tool=$(median tool.txt); base=$(median psql.txt)
ratio=$(awk -v t="$tool" -v b="$base" 'BEGIN {printf "%.3f", t/b}')
objects=$(psql -X -At -d "$DATABASE_URL" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 't1_schema'")
echo "tenants per side: $N; relations per tenant: $objects"
echo "median provision tenant add: $(awk -v t="$tool" 'BEGIN {printf "%.1f", t/1000}') ms"
echo "median psql -X -1 -f (rendered SQL): $(awk -v b="$base" 'BEGIN {printf "%.1f", b/1000}') ms"
echo "ratio (provision / psql): $ratio  (target <= 1.15)"
if [ -n "$previous" ]; then
  prev=$(median previous.txt)
  echo "median previous binary tenant add: $(awk -v t="$prev" 'BEGIN {printf "%.1f", t/1000}') ms; ratio previous / psql: $(awk -v t="$prev" -v b="$base" 'BEGIN {printf "%.3f", t/b}')"
fi
