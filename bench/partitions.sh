#!/usr/bin/env bash
# Benchmark: `provision partitions rollover` versus pg_partman's
# run_maintenance_proc() and versus the floor, `psql -X -1 -f` of the same
# `CREATE TABLE … PARTITION OF` statements, on the same server.
#
# 50 tenants x 4 monthly-partitioned tables (session_analytics, user_events,
# video_analytics, audit.<code>_audit_log), each starting with a DEFAULT and
# the current month (`provision up` with premake = 0). Creating run: the 3
# months ahead, 600 partitions; then the same command again (no-op run).
# Targets: provision <= 1.2x the floor; pg_partman >= 3.5x provision creating
# and >= 5x provision no-op.
#
# Every repetition works on fresh copies (CREATE DATABASE … TEMPLATE) of one
# provisioned database, one per contender, and rotates which goes first.
# Each timed step starts after a CHECKPOINT, a sync and an idle CPU second.
# Also timed, for information: the floor plus the row-level security that
# provision gives each new partition, and provision's dry run (the plan).
# Every run is checked against the catalog (600 new partitions). Reports
# medians and the ratios of medians.
#
# Usage: bench/partitions.sh [REPETITIONS]   (default 3)
# PROVISION_PREVIOUS=<binary>: one more contender, that binary's creating and
# no-op runs (e.g. the previous commit's release build), on its own copy.
# BENCH_SETTLE_SECONDS (default 60): how long each step waits for an idle
# CPU second; on a machine that is never idle, a few seconds do.
# Installs postgresql-15-partman with apt-get when it is missing (needs root);
# starts a throwaway embedded PostgreSQL (Debian's PostgreSQL 15) in a temp dir.
set -euo pipefail
REPS=${1:-3}
TENANTS=50
repo=$(cd "$(dirname "$0")/.." && pwd)
sql="$repo/bench/partitions"
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

if ! dpkg -s postgresql-15-partman >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q postgresql-15-partman >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q postgresql-15-partman >/dev/null; }
fi
partman_version=$(dpkg-query -W -f='${Version}' postgresql-15-partman)
partman_major=${partman_version%%.*}
echo "pg_partman: postgresql-15-partman $partman_version"
case $partman_version in
  4.7.*) ;;
  *) echo "note: the issue names pg_partman 4.7; this is $partman_version (5.x: create_parent(p_parent_table, p_control, p_interval, p_type := 'range', …))" ;;
esac

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL PROVISION_CONFIG
export PROVISION_ADMIN_PASSWORD=bench

# premake 0: `up` leaves DEFAULT + current month; premake 3: what rollover makes.
# The tenants are agent_mitra's: bench/partitions/parents.sql names its 4 tables.
for premake in 0 3; do
  {
    printf 'templates = "%s/templates"\n\n[defaults]\nblueprint = "agent_mitra"\npremake = %d\n' "$repo" "$premake"
    for i in $(seq -w 1 "$TENANTS"); do printf '\n[tenants.t%s]\nname = "Tenant %s"\n' "$i" "$i"; done
  } > "premake$premake.toml"
done

"$bin" -q sandbox start >/dev/null
base=$("$bin" sandbox url)                  # …/provision?host=…: the template database
url() { echo "${base/\/provision\?/\/$1?}"; }
admin=$(url postgres)
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }
# Autovacuum would visit every fresh copy while something is being timed.
q "$admin" -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
DATABASE_URL=$base "$bin" -q --config premake0.toml up
count() { q "$1" -f "$sql/count.sql"; }
[ "$(count "$base")" = $((TENANTS * 4)) ] || { echo "unexpected start state: $(count "$base") partitions" >&2; exit 1; }

now_ns() { date +%s%N; }
# Before each timed step: write out the server's dirty buffers and the OS's
# dirty pages (4 database copies were just written), so that background
# writeback does not compete with the file creation being timed; then wait
# (at most 60 s) for a second with >= 90% idle CPU, since other work on a
# shared 2-core machine shows up directly in wall-clock times.
busy=0
idle_pct() {
  local a b; a=$(head -1 /proc/stat); sleep 1; b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); for (i = 2; i <= 9; i++) t += y[i] - x[i];
                                  print (t ? int(100 * ((y[5] + y[6]) - (x[5] + x[6])) / t) : 100)}'
}
settle() {
  q "$admin" -c CHECKPOINT; sync
  local i; for i in $(seq 1 "${BENCH_SETTLE_SECONDS:-60}"); do [ "$(idle_pct)" -ge 90 ] && return 0; done
  busy=$((busy + 1))
}
# timed <file> <command…>: settles, runs the command, appends its wall-clock ms to <file>.
timed() {
  local out=$1; shift
  settle
  local t0 t1; t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns)
  awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f\n", ns/1e6}' >> "$out"
}
expect() { # expect <db> <what>: the 600 partitions exist
  local n; n=$(count "$1")
  [ "$n" = $((TENANTS * 4 * 4)) ] || { echo "$2: $((n - TENANTS * 4)) partitions created, expected $((TENANTS * 12))" >&2; exit 1; }
}

# Each contender on its own fresh copy <prefix>_<rep> of the provisioned database.
provision_side() { # a dry run (connect + config + plan), the creating run, the no-op run
  local db; db=$(url "p_$1")
  timed prov_plan.txt env DATABASE_URL="$db" "$bin" -q --config premake3.toml partitions rollover --jobs 2 --dry-run
  timed prov_create.txt env DATABASE_URL="$db" "$bin" -q --config premake3.toml partitions rollover --jobs 2
  expect "$db" "provision"
  timed prov_noop.txt env DATABASE_URL="$db" "$bin" -q --config premake3.toml partitions rollover --jobs 2
  expect "$db" "provision no-op"
}
previous_side() { # PROVISION_PREVIOUS's creating and no-op runs
  local db; db=$(url "o_$1")
  timed prev_create.txt env DATABASE_URL="$db" "$PROVISION_PREVIOUS" -q --config premake3.toml partitions rollover --jobs 2
  expect "$db" "previous provision"
  timed prev_noop.txt env DATABASE_URL="$db" "$PROVISION_PREVIOUS" -q --config premake3.toml partitions rollover --jobs 2
  expect "$db" "previous provision no-op"
}
floor_side() { # psql -1 of the same CREATE TABLE … PARTITION OF statements
  local db; db=$(url "f_$1")
  q "$db" -f "$sql/floor.sql" > floor.sql
  timed floor.txt psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f floor.sql
  expect "$db" "floor"
}
floor_rls_side() { # the floor plus the RLS provision gives each partition (informational)
  local db; db=$(url "s_$1")
  q "$db" -f "$sql/floor_rls.sql" > floor_rls.sql
  timed floor_rls.txt psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f floor_rls.sql
  expect "$db" "floor + RLS"
}
partman_side() { # register the parents (untimed), then the creating and the no-op run
  local db; db=$(url "m_$1")
  pm_premake=$(q "$db" -v partman_major="$partman_major" -f "$sql/partman_setup.sql" | tail -1)
  [ "$(count "$db")" = $((TENANTS * 4)) ] || { echo "pg_partman setup left $(count "$db") partitions" >&2; exit 1; }
  timed pm_create.txt psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CALL partman.run_maintenance_proc()"
  expect "$db" "pg_partman"
  timed pm_noop.txt psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CALL partman.run_maintenance_proc()"
  expect "$db" "pg_partman no-op"
}

: > prov_plan.txt; : > prov_create.txt; : > prov_noop.txt; : > floor.txt; : > floor_rls.txt; : > pm_create.txt; : > pm_noop.txt
: > prev_create.txt; : > prev_noop.txt
sides=(provision_side floor_side floor_rls_side partman_side)
prefixes=(p f s m)
if [ -n "${PROVISION_PREVIOUS:-}" ]; then sides+=(previous_side); prefixes+=(o); fi
n=${#sides[@]}
for r in $(seq 1 "$REPS"); do
  for prefix in "${prefixes[@]}"; do q "$admin" -c "CREATE DATABASE ${prefix}_$r TEMPLATE provision"; done
  for k in $(seq 0 $((n - 1))); do "${sides[$(( (k + r - 1) % n ))]}" "$r"; done   # rotate who goes first
  for prefix in "${prefixes[@]}"; do q "$admin" -c "DROP DATABASE ${prefix}_$r"; done
  echo "repetition $r of $REPS done" >&2
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
runs() { paste -sd' ' "$1"; }
row() { printf '%-28s %9s ms   (%s)\n' "$1" "$(median "$2")" "$(runs "$2")"; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2f", a/b}'; }
verdict() { awk -v x="$1" -v t="$3" -v op="$2" 'BEGIN {ok = (op == "<=" ? x <= t : x >= t); print (ok ? "met" : "MISSED")}'; }
statements=$(grep -c . floor_rls.sql)
echo
echo "tenants: $TENANTS; partitioned tables: $((TENANTS * 4)); partitions created per creating run: $((TENANTS * 12)); repetitions: $REPS"
echo "pg_partman premake used: $pm_premake (makes the same 3 months; see bench/partitions/partman_setup.sql)"
echo
echo "                               median        (runs)"
row "provision create (--jobs 2)" prov_create.txt
row "floor create (psql -1)" floor.txt
row "floor + RLS ($statements stmts)" floor_rls.txt
row "pg_partman create" pm_create.txt
row "provision no-op" prov_noop.txt
row "pg_partman no-op" pm_noop.txt
row "provision dry run (plan)" prov_plan.txt
if [ -n "${PROVISION_PREVIOUS:-}" ]; then
  row "previous create (--jobs 2)" prev_create.txt
  row "previous no-op" prev_noop.txt
fi
[ "$busy" = 0 ] || echo "note: $busy timed steps started on a busy CPU (no idle second within 60 s)"
echo
r1=$(ratio prov_create.txt floor.txt); r2=$(ratio pm_create.txt prov_create.txt); r3=$(ratio pm_noop.txt prov_noop.txt)
echo "provision / floor (create):       ${r1}x  target <= 1.2   $(verdict "$r1" '<=' 1.2)"
echo "pg_partman / provision (create):  ${r2}x  target >= 3.5   $(verdict "$r2" '>=' 3.5)"
echo "pg_partman / provision (no-op):   ${r3}x  target >= 5     $(verdict "$r3" '>=' 5)"
echo "provision / (floor + RLS):        $(ratio prov_create.txt floor_rls.txt)x  (informational)"
if [ -n "${PROVISION_PREVIOUS:-}" ]; then
  echo "pg_partman / previous (create):   $(ratio pm_create.txt prev_create.txt)x  (the same run, previous binary)"
  echo "previous / provision (create):    $(ratio prev_create.txt prov_create.txt)x"
fi
