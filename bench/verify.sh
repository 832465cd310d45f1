#!/usr/bin/env bash
# Benchmark: `provision verify` versus a pgTAP 1.2 test plan over the same
# database of N tenants (default 100). The pgTAP plan is what a pgTAP user
# would hard-code, generated from the catalog of the first tenant and applied
# to every tenant schema: per schema tables_are, per table columns_are,
# indexes_are, policies_are and triggers_are (bench/verify/pgtap_plan.sql),
# run with `psql -X -q -At -f` as one BEGIN … ROLLBACK test file.
# After ANALYZE and one untimed run of each, both sides run REPS times
# (default 3), interleaved; medians and their ratio are reported. Target: pgTAP / provision >= 20, while verify checks more:
# the script counts pgTAP's assertions and the names they compare, and the
# facts verify compares (rows of src/ops/sql/verify_fingerprint.sql for the
# tenants and the shared schemas) plus the inputs of its invariants.
# Finally one more verify runs with log_min_duration_statement = 0, and the
# server log gives a timeline of its statements and of the client time
# between them (where verify spends its time).
#
# Usage: bench/verify.sh [TENANTS] [REPS]   (defaults 100 and 3)
# BENCH_BLUEPRINT (default agent_mitra): the blueprint of every tenant (tenants.toml must name one).
# Installs postgresql-15-pgtap with apt-get when it is missing (needs root);
# starts a throwaway embedded PostgreSQL (Debian's PostgreSQL 15) in a temp dir.
set -euo pipefail
TENANTS=${1:-100}
REPS=${2:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
sql="$repo/bench/verify"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

if ! dpkg -s postgresql-15-pgtap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql-15-pgtap >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q postgresql-15-pgtap >/dev/null; }
fi
pgtap_version=$(dpkg-query -W -f '${Version}' postgresql-15-pgtap)
echo "postgresql-15-pgtap $pgtap_version"
case "$pgtap_version" in
  1.2.*) ;;
  *) echo "note: the issue names pgTAP 1.2; this is $pgtap_version" ;;
esac

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
{
  printf 'templates = "%s/templates"\n\n[defaults]\nblueprint = "%s"\n' "$repo" "${BENCH_BLUEPRINT:-agent_mitra}"
  for i in $(seq 1 "$TENANTS"); do
    printf '\n[tenants.t%03d]\nname = "Tenant %d"\n' "$i" "$i"
  done
} > "$work/tenants.toml"
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
"$bin" -q sandbox start >/dev/null
export DATABASE_URL=$("$bin" sandbox url)
psql_() { psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" "$@"; }

echo "provisioning $TENANTS tenants (provision up --no-verify) …"
t0=$(date +%s%N)
"$bin" -q up --no-verify > up.log 2>&1 || { cat up.log; exit 1; }
echo "  done in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
psql_ -c 'CREATE EXTENSION pgtap'
# Steady state: catalog statistics as autovacuum would eventually have them
# (without this, the first pgTAP run after provisioning is ~3x slower).
psql_ -c 'ANALYZE'
echo "pgTAP extension $(psql_ -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pgtap'")"

# The pgTAP test file, and what it asserts.
psql_ -At -v ref=t001_schema -f "$sql/pgtap_plan.sql" > plan.sql
assertions=$(sed -n 's/^SELECT plan(\([0-9]*\));$/\1/p' plan.sql)
names=$(grep -o "'{[^']*}'::name\[\]" plan.sql | awk -F, '{ n += ($0 ~ /^.\{\}/) ? 0 : NF } END { print n }')

# What verify compares: the fingerprint rows of the tenants (and of the
# shared schemas), and the invariants' inputs.
grep -q '\$[3-9]' "$repo/src/ops/sql/verify_fingerprint.sql" \
  && { echo "verify_fingerprint.sql takes more than \$1 and \$2 now: update bench/verify.sh" >&2; exit 1; }
{
  echo "WITH fp(sch, kind, name, detail) AS ("
  sed -e "s/\\\$1::text\\[\\]/(:'schemas')::text[]/" -e 's/\$2::text/NULL::text/g' "$repo/src/ops/sql/verify_fingerprint.sql"
  cat "$sql/facts_tail.sql"
} > facts.sql
schemas=$(psql_ -At -c "SELECT '{' || string_agg(schema_name, ',') || ',shared,portal,audit,provision}'
                        FROM shared.tenants WHERE status = 'active'")
psql_ -At -F '|' -v schemas="$schemas" -f facts.sql > facts.txt
sum_of() { awk -F'|' -v s="$1" '$1 == s { n += $3 } END { print n + 0 }' facts.txt; }
tenant_facts=$(sum_of 'fingerprint tenant')
shared_facts=$(sum_of 'fingerprint shared')
invariant_facts=$(sum_of 'invariants')

now_ns() { date +%s%N; }
# verify caches the shared schemas' reference image (see README, "Verify"):
# a cache of this run's own, so the first run builds it. That first run is
# timed too, and reported as the cold run.
export PROVISION_CACHE_DIR="$work/cache"
psql_ -At -f plan.sql > /dev/null   # one untimed run of pgTAP
t0=$(now_ns); "$bin" verify > cold.out 2>&1 || { echo "provision verify failed (cold):"; cat cold.out; exit 1; }
cold=$(( ($(now_ns) - t0) / 1000 ))
: > pgtap.txt; : > verify.txt
for r in $(seq 1 "$REPS"); do
  t0=$(now_ns)
  psql_ -At -f plan.sql > tap.txt
  t1=$(now_ns)
  "$bin" verify > verify.out 2>&1 || { echo "provision verify failed (run $r):"; cat verify.out; exit 1; }
  t2=$(now_ns)
  if grep -q '^not ok' tap.txt || [ "$(grep -c '^ok ' tap.txt)" -ne "$assertions" ]; then
    echo "the pgTAP plan failed (run $r):"; grep -v '^ok ' tap.txt | head -40; exit 1
  fi
  echo $(( (t1 - t0) / 1000 )) >> pgtap.txt
  echo $(( (t2 - t1) / 1000 )) >> verify.txt
  echo "  run $r: pgTAP $(( (t1 - t0) / 1000000 )) ms, provision verify $(( (t2 - t1) / 1000000 )) ms"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
tap=$(median pgtap.txt); ver=$(median verify.txt)
ms() { awk -v u="$1" 'BEGIN {printf "%.0f", u/1000}'; }

# Fixed cost: verify of one tenant (the shared reference database, the
# reference tenant, process start) against the same database.
t0=$(now_ns); "$bin" verify --tenant t001 > one.out 2>&1; t1=$(now_ns)
one=$(( (t1 - t0) / 1000 ))

# Where verify's time goes: one more run with every statement logged (with
# epoch timestamps), read back as a timeline. A gap between two statements is
# time spent in the client (rendering, normalizing, comparing) or in transit.
psql_ -c 'ALTER SYSTEM SET log_min_duration_statement = 0' -c "ALTER SYSTEM SET log_line_prefix = '%n [%p] '" \
      -c 'SELECT pg_reload_conf()' >/dev/null
sleep 0.5
log="$work/.provision/server.log"
before=$(wc -c < "$log")
t0=$(now_ns); "$bin" verify > verify.out 2>&1; t1=$(now_ns)
psql_ -c 'ALTER SYSTEM RESET log_min_duration_statement' -c 'ALTER SYSTEM RESET log_line_prefix' \
      -c 'SELECT pg_reload_conf()' >/dev/null

echo
echo "tenants: $TENANTS; runs per side: $REPS (after one untimed run each)"
echo "pgTAP plan: $assertions assertions (tables_are per schema; columns_are, indexes_are, policies_are,"
echo "  triggers_are per table), comparing $names names"
echo "provision verify compares $tenant_facts tenant facts (fingerprint rows: name and definition, each against"
echo "  the reference tenant) + $shared_facts shared-schema facts, and decides $invariant_facts invariant cases:"
awk -F'|' '$1 == "fingerprint tenant" { printf "    %-20s %7d\n", $2, $3 }' facts.txt | sort -k1,1
awk -F'|' '$1 == "invariants" { printf "    %-66s %8d\n", $2, $3 }' facts.txt
echo "median pgTAP (psql -X -q -At -f): $(ms "$tap") ms"
echo "median provision verify: $(ms "$ver") ms"
echo "ratio (pgTAP / provision verify): $(awk -v t="$tap" -v v="$ver" 'BEGIN {printf "%.1f", t/v}')  (target >= 20)"
echo "provision verify --tenant t001 (fixed cost): $(ms "$one") ms"
echo "provision verify with an empty cache (the first run, which builds the shared reference): $(ms "$cold") ms"
echo
echo "provision verify with every statement logged, $(( (t1 - t0) / 1000000 )) ms wall. Timeline (ms from process"
echo "start; statements or client gaps of 10 ms or more):"
tail -c +"$((before + 1))" "$log" | awk -v t0="$t0" -v t1="$t1" '
  function show(at, what, d) { if (d >= 10) printf "  %7.0f %8.1f  %s\n", at, d, what }
  / duration: [0-9.]+ ms/ {
    match($0, /duration: [0-9.]+ ms/); d = substr($0, RSTART + 10, RLENGTH - 13) + 0
    s = substr($0, RSTART + RLENGTH); sub(/^ +(statement|execute [^:]*|parse [^:]*|bind [^:]*): /, "", s)
    end = $1 * 1000 - t0 / 1e6; begin = end - d
    if (begin > last) { show(last, "(client)", begin - last); gaps += begin - last }
    show(begin, substr(s, 1, 80), d); server += d
    if (end > last) last = end
  }
  END {
    show(last, "(client, to exit)", t1 / 1e6 - t0 / 1e6 - last); gaps += t1 / 1e6 - t0 / 1e6 - last
    printf "  server time %.0f ms; client and transit time between statements %.0f ms\n", server, gaps
  }'
