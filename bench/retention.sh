#!/usr/bin/env bash
# Benchmark: `provision retention run` against the single statement a DBA
# would otherwise write, on ROWS expired rows (default 1,000,000) per side:
#  - delete: ledger `sessions` past 30 days, `retention run` (batches of
#    1000, one transaction each) vs one `DELETE … WHERE expires_at < …`;
#  - anonymise: ledger `accounts` with a GDPR request, `retention run` (email
#    hashed with the tenant's salt, phone NULL) vs one `UPDATE`.
# Tenant `a` gets the tool, tenant `b` the single statements; same server,
# same rows. "Longest lock" is the longest statement the server logged while
# each side ran (log_min_duration_statement = 0): every batch is one
# statement in its own transaction, so its duration bounds how long any row
# lock is held; the single statement holds all of its row locks to its end.
#
# Usage: bench/retention.sh [ROWS]
set -euo pipefail
ROWS=${1:-1000000}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/templates"
ln -s "$repo/tests/fixtures/ledger" "$work/templates/ledger"
printf 'templates = "templates"\n[tenants.a]\nname = "A"\nblueprint = "ledger"\n[tenants.b]\nname = "B"\nblueprint = "ledger"\n' > "$work/tenants.toml"
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
"$bin" -q sandbox start >/dev/null
export DATABASE_URL=$("$bin" sandbox url)
"$bin" -q up >/dev/null
log="$work/.provision/server.log"
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" "$@"; }

for t in a b; do
  sql -c "INSERT INTO ${t}_schema.sessions (id, expires_at)
          SELECT g, localtimestamp - interval '31 days' - (g % 1000) * interval '1 minute' FROM generate_series(1, $ROWS) g" \
      -c "INSERT INTO ${t}_schema.accounts (id, email, phone, name, gdpr_deletion_request, closed_at)
          SELECT g, 'user' || g || '@example.com', '+44 7700 ' || g, 'User ' || g, true,
                 localtimestamp - interval '40 days' FROM generate_series(1, $ROWS) g"
done
sql -c "VACUUM ANALYZE" -c "CHECKPOINT"
sql -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.3

now_ns() { date +%s%N; }
# Runs "$@", prints wall ms and the longest logged statement (ms) during it.
timed() {
  local before t0 t1 longest
  before=$(wc -l < "$log")
  t0=$(now_ns); "$@" >/dev/null; t1=$(now_ns)
  sleep 0.3
  longest=$(tail -n +"$((before + 1))" "$log" | grep -oE 'duration: [0-9.]+ ms' | awk '{ if ($2 > m) m = $2 } END { printf "%.1f", m }')
  echo "$(awk -v t=$(( (t1 - t0) / 1000 )) 'BEGIN {printf "%.1f", t/1000}') $longest"
}
read -r tool_ms tool_lock < <(timed "$bin" -q retention run --tenant a --batch 1000)
read -r del_ms del_lock < <(timed sql -c "DELETE FROM b_schema.sessions WHERE expires_at < localtimestamp - interval '30 days'")
read -r upd_ms upd_lock < <(timed sql -c "UPDATE b_schema.accounts SET email = 'anon:' || left(md5(email), 32), phone = NULL
                                          WHERE gdpr_deletion_request AND closed_at < localtimestamp - interval '30 days'")
sql -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
left=$(psql -X -At -d "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM a_schema.sessions) + (SELECT count(*) FROM a_schema.accounts WHERE phone IS NOT NULL)")
single_ms=$(awk -v a="$del_ms" -v b="$upd_ms" 'BEGIN {printf "%.1f", a + b}')
single_lock=$(awk -v a="$del_lock" -v b="$upd_lock" 'BEGIN {printf "%.1f", (a > b ? a : b)}')
echo "rows per side: $ROWS expired sessions + $ROWS accounts with a GDPR request (rows left undone by the tool: $left)"
echo "retention run (delete + anonymise, batches of 1000): $tool_ms ms, longest statement $tool_lock ms"
echo "single DELETE: $del_ms ms; single UPDATE: $upd_ms ms; together $single_ms ms, longest statement $single_lock ms"
echo "ratio time (tool / single statements): $(awk -v a="$tool_ms" -v b="$single_ms" 'BEGIN {printf "%.2f", a/b}')"
echo "ratio longest lock (tool / single statements): $(awk -v a="$tool_lock" -v b="$single_lock" 'BEGIN {printf "%.4f", a/b}')"
