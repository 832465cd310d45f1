#!/usr/bin/env bash
# Benchmark: `provision partitions rollover` beside live traffic (issue 11,
# item 6). pgbench runs custom read and write scripts with 8 clients on every
# partitioned table of one tenant (user_events, session_analytics,
# video_analytics, audit.<code>_audit_log: 32 clients) while one rollover
# creates partitions, moves rows out of the DEFAULT partitions and applies
# retention (archive or drop by shared.data_retention_policies).
#
# The tenant looks like a database that has run for months: partitions for
# months -4..-1 and the current one with ROWS rows each, ROWS rows per table
# waiting in the DEFAULT partition for month +5, retention "1 month". The
# rollover runs with --now = month +2 (creates months +4, +5; moves the
# DEFAULT rows into +5) and, by the server's clock, releases months -4..-2.
#
# Two pgbench runs of SECONDS each, on fresh copies of the same database: a
# baseline without rollover, then one where the rollover starts after a third
# of the run. Reported: client errors (failed transactions + aborted clients;
# target 0), p99 and max latency of the baseline and of the transactions that
# overlapped the rollover, the added p99 (target: below --ddl-timeout), and
# the rollover's own time. The catalog is checked after the rollover.
#
# Usage: bench/rollover_under_load.sh [SECONDS] [ROWS] [REPETITIONS]
#        (defaults 30, 20000, 3). Needs pgbench (Debian: postgresql-client-15).
# Starts a throwaway embedded PostgreSQL (Debian's PostgreSQL 15) in a temp dir.
set -euo pipefail
SECONDS_RUN=${1:-30}
ROWS=${2:-20000}
REPS=${3:-3}
DDL_TIMEOUT=3
CODE=hdfc
repo=$(cd "$(dirname "$0")/.." && pwd)
sql="$repo/bench/rollover_under_load"
command -v pgbench >/dev/null || { echo "pgbench not found: apt-get install postgresql-client-15" >&2; exit 1; }
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL PROVISION_CONFIG
export PROVISION_ADMIN_PASSWORD=bench
printf 'templates = "%s/templates"\n\n[tenants.%s]\nname = "Bench"\nretention = "1 month"\n' "$repo" "$CODE" > tenants.toml

"$bin" -q sandbox start >/dev/null
base=$("$bin" sandbox url)
url() { echo "${base/\/provision\?/\/$1?}"; }
admin=$(url postgres)
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }
DATABASE_URL=$base "$bin" -q up --no-verify
q "$base" -v code="$CODE" -v rows="$ROWS" -f "$sql/setup.sql" >/dev/null
now=$(q "$base" -c "SELECT to_char(date_trunc('month', localtimestamp) + interval '2 months' + interval '4 days', 'YYYY-MM-DD')")

# One read and one write script per table; 8 clients per table run both.
schema="${CODE}_schema"
tables=(user_events session_analytics video_analytics "${CODE}_audit_log")
for t in "${tables[@]}"; do
  parent="$schema.$t"; [ "$t" = "${CODE}_audit_log" ] && parent="audit.$t"
  echo "SELECT count(*) FROM $parent;" > "read_$t.sql"
  case $t in
    video_analytics) echo "INSERT INTO $parent DEFAULT VALUES;" ;;
    *_audit_log) echo "INSERT INTO $parent (table_name, record_id, operation) VALUES ('bench', 'x', 'INSERT');" ;;
    *) echo "INSERT INTO $parent (event_type) VALUES ('bench');" ;;
  esac > "write_$t.sql"
done

# load <db> <tag>: 8 clients per table for SECONDS_RUN, per-transaction logs in log_<tag>_<table>.*
load() {
  local t
  for t in "${tables[@]}"; do
    pgbench -n -c 8 -j 2 -T "$SECONDS_RUN" -f "read_$t.sql@1" -f "write_$t.sql@1" \
      -l --log-prefix="log_$2_$t" "$1" > "pgbench_$2_$t.out" 2>&1 &
  done
}
# errors <tag>: failed transactions plus aborted clients over every table's pgbench
errors() {
  cat pgbench_"$1"_*.out | awk '/number of failed transactions/ {f += $5} /aborted in command/ {a++}
                                 END {print f + a}'
}
# p99/max latency (ms) of the transactions of <tag> overlapping [from, to] (epoch µs; 0 0: all)
latency() {
  cat log_"$1"_* | awk -v from="$2" -v to="$3" '
    $3 ~ /^[0-9]+$/ { end = $5 * 1000000 + $6; start = end - $3
                      if (from == 0 || (end >= from && start <= to)) print $3 / 1000 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "n=0"; exit }
          i = int(NR * 0.99); if (i < 1) i = 1; printf "n=%d p99=%.1f max=%.1f\n", NR, v[i], v[NR] }'
}
now_us() { echo $(( $(date +%s%N) / 1000 )); }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

printf 'rep  baseline(p99/max ms)  during rollover(n, p99/max ms)  added p99 ms  rollover s  client errors  catalog\n'
: > summary.txt
for r in $(seq 1 "$REPS"); do
  q "$admin" -c "CREATE DATABASE b_$r TEMPLATE provision" -c "CREATE DATABASE r_$r TEMPLATE provision" >/dev/null
  rm -f log_* pgbench_*
  load "$(url "b_$r")" base; wait
  baseline=$(latency base 0 0); base_errors=$(errors base)

  db=$(url "r_$r")
  load "$db" roll
  sleep $((SECONDS_RUN / 3))
  t0=$(now_us)
  DATABASE_URL=$db "$bin" -q --config tenants.toml partitions rollover --now "$now" --ddl-timeout "$DDL_TIMEOUT" \
    > rollover.out 2>&1 || { echo "rollover failed:"; cat rollover.out; exit 1; }
  t1=$(now_us)
  wait
  during=$(latency roll "$t0" "$t1"); roll_errors=$(errors roll)
  facts=$(q "$db" -v code="$CODE" -f "$sql/facts.sql")
  # months -4..5 minus the released -4..-2, for 4 tables: 28 attached; nothing left in DEFAULT;
  # user_events and the audit log archived (6), the other two dropped.
  [ "$facts" = "attached=28 default_rows=0 expired_attached=0 archived=6" ] || echo "unexpected catalog: $facts" >&2
  added=$(awk -v a="$(field p99 "$during")" -v b="$(field p99 "$baseline")" 'BEGIN {printf "%.1f", a - b}')
  seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e6}')
  printf '%s    %-20s  %-30s  %-12s  %-10s  %-13s  %s\n' "$r" "$(field p99 "$baseline")/$(field max "$baseline")" \
    "$(field n "$during"), $(field p99 "$during")/$(field max "$during")" "$added" "$seconds" \
    "$((base_errors + roll_errors))" "$facts"
  echo "$added $seconds $((base_errors + roll_errors)) $(field p99 "$during") $(field max "$during")" >> summary.txt
  q "$admin" -c "DROP DATABASE b_$r" -c "DROP DATABASE r_$r" >/dev/null
done
awk -v ddl="$DDL_TIMEOUT" '{ a[NR] = $1; e += $3; if ($1 > m) m = $1; if ($5 > x) x = $5 }
     END { printf "worst added p99: %.1f ms (target < %d000 ms); worst latency during rollover: %.1f ms; client errors: %d (target 0)\n", m, ddl, x, e }' summary.txt
