#!/usr/bin/env bash
# Benchmark: moving a tenant of ROWS rows (default 1,000,000) from server a to
# server b while pgbench writes into it (issue 15, parts 2 and 3 of
# bench/scale_out.sh). Three moves, each of its own tenant on the same two
# embedded servers, each under the same pgbench load (CLIENTS clients,
# default 4, unthrottled unless RATE is set, one INSERT per transaction as
# the tenant's application login, app.tenant_id set per transaction):
#
#   online          `tenant move --to b`, pgbench connected to server a: its
#                   clients fail once the source stops taking their writes.
#   online+cutover  the same through PgBouncer (transaction pooling, alias
#                   per tenant): `--pgbouncer … --routing-out …` pauses the
#                   alias for the freeze and resumes it on server b.
#   offline+cutover `--offline` (pg_dump | psql inside the freeze) through
#                   PgBouncer: the downtime is the whole copy.
#
# Reported per move: total time, the write freeze (freeze_ms) and its slowest
# step, how long PgBouncer held clients (paused_ms), pgbench's committed and
# failed transactions, and rows lost or duplicated: the target's count of the
# bench's rows against what pgbench committed. Targets: freeze <= 1 s and 0
# client errors with the cutover. Ratio: offline downtime / online freeze.
#
# Usage: bench/scale_out_move.sh [ROWS]   (e.g. 100000 for a quick check)
# Needs pgbench and pgbouncer (Debian packages postgresql-15, pgbouncer).
set -euo pipefail
ROWS=${1:-1000000}
CLIENTS=${CLIENTS:-4}
RATE=${RATE:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"
command -v pgbench >/dev/null || PATH="/usr/lib/postgresql/15/bin:$PATH"
command -v pgbouncer >/dev/null || PATH="/usr/sbin:$PATH"

work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/provision-move-XXXXXX")
chmod 755 "$work"
bouncer_pid=""
cleanup() {
  # $! is the subshell running as_user; PgBouncer is its child, found by its config.
  [ -n "$bouncer_pid" ] && pkill -f "$work/pgbouncer/pgbouncer.ini" 2>/dev/null || true
  for s in a b; do (cd "$work/$s" 2>/dev/null && "$bin" -q sandbox stop >/dev/null 2>&1 || true); done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"  # the moves' backups of the source copies land here
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE PGOPTIONS DATABASE_URL PROVISION_SERVER
for s in a b; do
  mkdir -p "$work/$s"; chmod 755 "$work/$s"
  (cd "$work/$s" && "$bin" -q sandbox start >/dev/null)
done
url() { (cd "$work/$1" && "$bin" sandbox url); }
A_URL=$(url a); B_URL=$(url b); export A_URL B_URL
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
socket_of() { local u=$1; u=${u#*host=}; echo "${u%%&*}"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# PgBouncer and the sandboxes refuse root: run as the sandbox's user.
as_user() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi; }

login=bench_app
password=bench-pw
codes="mva mvb mvc"
{
  printf 'templates = "%s/templates"\n[defaults]\nblueprint = "agent_mitra"\n' "$repo"
  printf '[servers.a]\nurl_env = "A_URL"\n[servers.b]\nurl_env = "B_URL"\n'
  for c in $codes; do printf '\n[tenants.%s]\nname = "Moving %s"\nserver = "a"\n' "$c" "$c"; done
} > "$work/tenants.toml"
run() { "$bin" --quiet --config "$work/tenants.toml" "$@"; }

echo "setting up: 3 tenants of $ROWS rows on server a ..." >&2
run up --no-verify >/dev/null
for u in "$A_URL" "$B_URL"; do sql "$u" "CREATE ROLE $login LOGIN PASSWORD '$password'"; done
for c in $codes; do
  run --server a tenant grant "$c" "$login" >/dev/null
  # The rows are loaded as replica: the audit trigger would log a million inserts the move then copies too.
  sql "$A_URL" "SET session_replication_role = replica;
    INSERT INTO ${c}_schema.user_events (event_type, \"timestamp\")
    SELECT 'seed', localtimestamp - g * interval '1 second' FROM generate_series(1, $ROWS) AS g"
done
sql "$A_URL" "VACUUM ANALYZE"

# PgBouncer: transaction pooling, md5 logins, the routing file %included.
pb="$work/pgbouncer"; mkdir -p "$pb"; chmod 777 "$pb"
printf '"%s" "%s"\n' "$login" "$password" > "$pb/users.txt"
run routing pgbouncer --out "$pb/tenants.ini" >/dev/null
cat > "$pb/pgbouncer.ini" <<EOF
[pgbouncer]
listen_port = 6432
unix_socket_dir = $pb
auth_type = md5
auth_file = $pb/users.txt
admin_users = $login
pool_mode = transaction
default_pool_size = $CLIENTS
%include $pb/tenants.ini
EOF
chmod 644 "$pb"/*
as_user pgbouncer "$pb/pgbouncer.ini" >"$pb/pgbouncer.log" 2>&1 &
bouncer_pid=$!
for _ in $(seq 100); do [ -S "$pb/.s.PGSQL.6432" ] && break; sleep 0.05; done
console="postgresql://$login:$password@/pgbouncer?host=$pb&port=6432"

# One pgbench write load on tenant $1 through $2 (a URL) for $3 seconds, in the background (pid in load_pid).
load() {
  local code=$1 target=$2 seconds=$3 tid
  tid=$(sql "$A_URL" "SELECT tenant_id FROM shared.tenants WHERE tenant_code = '$code'")
  cat > "$work/$code.sql" <<EOF
BEGIN;
SELECT set_config('app.tenant_id', '$tid', true);
INSERT INTO ${code}_schema.user_events (event_type, "timestamp") VALUES ('bench', localtimestamp);
COMMIT;
EOF
  # -M simple: PgBouncer's transaction pooling and prepared statements do not mix.
  pgbench -n -M simple -c "$CLIENTS" -j "$CLIENTS" -T "$seconds" ${RATE:+-R "$RATE"} -f "$work/$code.sql" \
    "$target" >"$work/$code.pgbench" 2>&1 &
  load_pid=$!
}

# Moves tenant $1 ($2: extra flags) under load through $3 ("direct" or "bouncer"); prints one table row.
measure() {
  local code=$1 flags=$2 via=$3 label=$4 target t0 t1 doc seconds
  case "$via" in
    direct) target="postgresql://$login:$password@/${A_URL#*@/}" ;;
    bouncer) target="postgresql://$login:$password@/$code?host=$pb&port=6432" ;;
  esac
  seconds=${LOAD_SECONDS:-90}
  load "$code" "$target" "$seconds"
  sleep 3
  t0=$(now_ms)
  # The console URL (with its password) goes by environment, not argv.
  # shellcheck disable=SC2086
  if [ "$via" = bouncer ]; then
    doc=$(PROVISION_PGBOUNCER_URL="$console" run tenant move "$code" --to b --json $flags --routing-out "$pb/tenants.ini")
  else
    doc=$(run tenant move "$code" --to b --json $flags)
  fi
  t1=$(now_ms)
  wait "$load_pid" || true
  local committed failed aborted on_b lost
  committed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/$code.pgbench")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/$code.pgbench")
  aborted=$(grep -c "aborted in command" "$work/$code.pgbench" || true)
  on_b=$(sql "$B_URL" "SELECT count(*) FROM ${code}_schema.user_events WHERE event_type = 'bench'")
  lost=$(( ${committed:-0} - on_b ))
  local freeze paused slowest
  freeze=$(jq -r '.freeze_ms' <<< "$doc"); paused=$(jq -r '.paused_ms // "-"' <<< "$doc")
  slowest=$(jq -r 'if .freeze_slowest then "\(.freeze_slowest.step) \(.freeze_slowest.ms) ms" else "-" end' <<< "$doc")
  printf '| %s | %.1f | %s | %s | %s | %s | %s | %s |\n' "$label" "$(awk -v t=$((t1 - t0)) 'BEGIN {print t/1000}')" \
    "$freeze" "$slowest" "$paused" "${committed:-0}" "$(( ${failed:-0} + aborted ))" "$lost"
  echo "$freeze" > "$work/$code.freeze"
  if [ "$(( t1 - t0 + 3000 ))" -gt "$(( seconds * 1000 ))" ]; then
    echo "note: the $label move outlasted the write load (LOAD_SECONDS=$seconds)" >&2
  fi
  if [ "$lost" != 0 ]; then echo "the $label move lost or duplicated $lost rows" >&2; exit 1; fi
}

echo
echo "## parts 2–3: moving a tenant of $ROWS rows under pgbench ($CLIENTS clients${RATE:+, $RATE tps}) ($(git -C "$repo" rev-parse --short HEAD))"
echo
echo "| move | total s | freeze ms | slowest freeze step | clients held ms | committed | client errors | lost |"
echo "|---|---|---|---|---|---|---|---|"
measure mva "" direct "online"
measure mvb "" bouncer "online + cutover"
measure mvc "--offline" bouncer "offline + cutover"
awk -v off="$(cat "$work/mvc.freeze")" -v on="$(cat "$work/mvb.freeze")" \
  'BEGIN {printf "\ndowntime, offline / online (cutover runs): %.1fx\n", off / on}'
