#!/usr/bin/env bash
# Crash soak: N runs of `tenant add` and `up --jobs 2` (alternating), each
# killed with kill -9 after a random delay within the uninterrupted run's
# duration, plus one server crash (immediate shutdown, as `pg_ctl stop -m
# immediate`: SIGQUIT to the postmaster) during `up --jobs 2` and a restart.
# Each is followed by a repair run (the same command) and a comparison of the
# database with an uninterrupted run on a fresh database, using the crash
# suite's catalog image (tests/sql/catalog_snapshot.sql + crash_snapshot.sql:
# objects, triggers and their enabled state, RLS, policies, ACLs, rows per
# table, memberships, advisory locks, INVALID indexes).
#
# Usage: bench/crash_soak.sh [N]   (default 20)
# Prints how many runs were interrupted before finishing, how many needed
# repair (their database differed from the uninterrupted one after the
# kill), how many of those left a registered but half-built tenant (what
# the next run must complete, not just redo), and how many still differed
# after the repair run (target: 0).
# PROVISION_BIN: the binary to test (default: a release build).
# Starts a throwaway embedded PostgreSQL in a temp dir.
set -euo pipefail
N=${1:-20}
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PROVISION_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
  PROVISION_BIN="$repo/target/release/provision"
fi
bin=$PROVISION_BIN

work=$(mktemp -d /tmp/provision-soak-XXXXXX)
chmod 755 "$work"
cleanup() {
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL PROVISION_FAILPOINT
"$bin" -q sandbox start >/dev/null
base=$("$bin" sandbox url)
url_of() { echo "${base/\/provision\?//$1?}"; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$(url_of "$1")" -c "$2"; }

# Two workspaces: `tenant add hdfc` declares one tenant, `up` three.
mkdir add up
printf 'templates = "%s/templates"\n[tenants.hdfc]\nname = "HDFC"\n' "$repo" > add/tenants.toml
printf 'templates = "%s/templates"\n[tenants.lic]\nname = "LIC"\n[tenants.hdfc]\nname = "HDFC"\n[tenants.icici]\nname = "ICICI"\n' \
  "$repo" > up/tenants.toml
command_of() { case $1 in add) echo "tenant add hdfc --no-verify" ;; up) echo "up --jobs 2 --no-verify" ;; esac; }

snapshot() {
  { psql -X -q -At -d "$(url_of "$1")" -f "$repo/tests/sql/catalog_snapshot.sql"
    psql -X -q -At -d "$(url_of "$1")" -f "$repo/tests/sql/crash_snapshot.sql"; } | LC_ALL=C sort > "$2"
}
run() { # kind database: the command, uninterrupted
  (cd "$1" && DATABASE_URL=$(url_of "$2") "$bin" -q $(command_of "$1") >/dev/null 2>&1)
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# The uninterrupted runs: the expected catalog and how long each takes.
declare -A duration
for kind in add up; do
  sql postgres "CREATE DATABASE ref_$kind"
  t0=$(now_ms); run "$kind" "ref_$kind"; duration[$kind]=$(( $(now_ms) - t0 ))
  snapshot "ref_$kind" "ref_$kind.txt"
done

postmaster_pid() { head -1 "$work/.provision/data/postmaster.pid"; }
crash_server() {
  local pid; pid=$(postmaster_pid)
  kill -QUIT "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  "$bin" -q sandbox start >/dev/null
}

# Registered tenants whose creation is unfinished (their administrator is
# still pending: see README "Crash safety").
HALF_BUILT="SELECT count(*) FROM shared.tenant_config WHERE config_key = 'provision.administrator_pending'"
interrupted=0; repaired=0; half_built=0; differing=0; failed=0
server_crash_at=$(( (N + 1) / 2 ))
for i in $(seq 1 "$N"); do
  kind=$([ $((i % 2)) -eq 1 ] && echo add || echo up)
  how=kill
  if [ "$i" -eq "$server_crash_at" ]; then kind=up; how=server; fi
  db="soak_$i"
  sql postgres "CREATE DATABASE $db"
  delay=$(( RANDOM % duration[$kind] ))
  (cd "$kind" && exec env DATABASE_URL="$(url_of "$db")" "$bin" -q $(command_of "$kind") >/dev/null 2>&1) &
  child=$!
  sleep "$(awk -v ms="$delay" 'BEGIN {printf "%.3f", ms / 1000}')"
  if kill -0 "$child" 2>/dev/null; then
    interrupted=$((interrupted + 1))
    if [ "$how" = server ]; then crash_server; else kill -9 "$child"; fi
  fi
  wait "$child" 2>/dev/null || true
  snapshot "$db" before.txt
  if ! cmp -s before.txt "ref_$kind.txt"; then repaired=$((repaired + 1)); fi
  if [ "$(sql "$db" "SELECT CASE WHEN to_regclass('shared.tenant_config') IS NULL THEN 0 END" )" != 0 ] \
     && [ "$(sql "$db" "$HALF_BUILT")" -gt 0 ]; then
    half_built=$((half_built + 1))
  fi
  if ! out=$(cd "$kind" && DATABASE_URL=$(url_of "$db") "$bin" $(command_of "$kind") 2>&1); then
    # A tenant add that had finished before the kill: "already exists" is right.
    if ! grep -q "already exists" <<< "$out"; then
      failed=$((failed + 1)); echo "run $i ($kind, $how after ${delay} ms): repair failed: $out" >&2
    fi
  fi
  snapshot "$db" after.txt
  if ! cmp -s after.txt "ref_$kind.txt"; then
    differing=$((differing + 1))
    echo "run $i ($kind, $how after ${delay} ms) differs after repair:" >&2
    diff "ref_$kind.txt" after.txt | head -20 >&2 || true
  fi
  echo "run $i: $kind, $how after ${delay} ms"
done
echo "uninterrupted: tenant add ${duration[add]} ms, up --jobs 2 ${duration[up]} ms"
echo "runs: $N (1 server crash); interrupted before finishing: $interrupted"
echo "needed repair: $repaired (a half-built registered tenant: $half_built); repair runs failed: $failed; differences after repair: $differing"
[ "$differing" -eq 0 ] && [ "$failed" -eq 0 ]
