#!/usr/bin/env bash
# Benchmark: `provision seed --tenant lic --sample N` (default 100000 policies,
# with their holders, agents, users, payments and events) into a freshly
# provisioned tenant. Prints the wall-clock seconds and the rows per table;
# the target is < 10 s for 100k policies (release build, 2 cores).
#
# Usage: bench/seed.sh [N]   (default 100000)
# Uses BENCH_DATABASE_URL when set (a database it may provision and fill);
# otherwise starts a throwaway embedded PostgreSQL in a temp dir.
set -euo pipefail
N=${1:-100000}
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
printf 'templates = "%s/templates"\n\n[tenants.lic]\nname = "Life Insurance Corporation of India"\n' "$repo" > "$work/tenants.toml"
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  export DATABASE_URL="$BENCH_DATABASE_URL"
else
  "$bin" -q sandbox start >/dev/null
  export DATABASE_URL=$("$bin" sandbox url)
fi
"$bin" -q up

now_ns() { date +%s%N; }
t0=$(now_ns)
"$bin" -v seed --tenant lic --sample "$N" --rng-seed 1 > seed.txt 2> phases.txt
t1=$(now_ns)
t2=$(now_ns)
"$bin" seed --tenant lic --sample "$N" --rng-seed 1 > rerun.txt
t3=$(now_ns)
seconds() { awk -v ns="$1" 'BEGIN {printf "%.2f", ns/1e9}'; }
echo "policies: $N (tenant lic)"
sed 's/^/phase:/' phases.txt | grep -v 'connecting to' || true
cat seed.txt
psql -X -At -d "$DATABASE_URL" -c "
  SELECT format('%-20s %10s', relname, n_live_tup) FROM pg_stat_user_tables
  WHERE schemaname = 'lic_schema' AND relname IN ('users', 'agents', 'policyholders', 'insurance_policies', 'premium_payments')
     OR schemaname = 'lic_schema' AND relname LIKE 'user_events_%'
  ORDER BY relname" 2>/dev/null || true
echo "seed: $(seconds $((t1 - t0))) s wall clock  (target < 10 s for 100000)"
echo "rerun (inserts nothing): $(seconds $((t3 - t2))) s"
