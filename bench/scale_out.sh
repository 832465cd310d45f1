#!/usr/bin/env bash
# Benchmark: placement across servers (issue 15).
#
# Part 1 (placement): `provision up --jobs 2 --no-verify` creating N tenants
# (default 900) on one server, against the same N tenants declared across
# three servers (`[servers.*]`, no `server =` so placement spreads them, N/3
# each; `--jobs 2` is per server). Reported per run: wall time, relations
# per server, and the pace per tenant over the first and the last tenth of
# each server's tenants (registry created_at). Every server is an embedded
# PostgreSQL of this machine, so the three-server run shares the same two
# cores: what it can win is the per-server catalog growth, not CPU.
#
# Part 2 (a move of a 1M-row tenant under pgbench write load, online, with
# and without the PgBouncer cutover) and part 3 (the same move --offline)
# run after part 1, on servers of their own: bench/scale_out_move.sh ROWS.
#
# Usage: bench/scale_out.sh [N] [ROWS]   (defaults 900 and 1000000; e.g. 90
# 100000 for a quick check). PARTS=move runs parts 2-3 only, PARTS=placement
# part 1 only.
set -euo pipefail
N=${1:-900}
ROWS=${2:-1000000}
PARTS=${PARTS:-all}
if [ "$PARTS" = move ]; then exec "$(dirname "$0")/scale_out_move.sh" "$ROWS"; fi
per=$(( N / 3 ))
N=$(( per * 3 ))
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"

work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/provision-scale-XXXXXX")
chmod 755 "$work"
cleanup() {
  for s in one a b c; do (cd "$work/$s" 2>/dev/null && "$bin" -q sandbox stop >/dev/null 2>&1 || true); done
  rm -rf "$work"
}
trap cleanup EXIT
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE PGOPTIONS DATABASE_URL PROVISION_SERVER
# Four embedded servers: `one` for the single-server run, a/b/c for the fleet.
for s in one a b c; do
  mkdir -p "$work/$s"; chmod 755 "$work/$s"
  (cd "$work/$s" && "$bin" -q sandbox start >/dev/null)
done
url() { (cd "$work/$1" && "$bin" sandbox url); }
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
now_ns() { date +%s%N; }

# tenants.toml with tenants 1..N (t0001…) and, for the fleet, three servers.
tenants() {
  awk -v n="$N" -v repo="$repo" 'BEGIN {
    printf "templates = \"%s/templates\"\n[defaults]\nblueprint = \"agent_mitra\"\n", repo
    for (i = 1; i <= n; i++) printf "\n[tenants.t%04d]\nname = \"Fleet tenant %d\"\n", i, i
  }'
}
tenants > "$work/single.toml"
{ tenants; printf '\n[servers.a]\nurl_env = "A_URL"\n[servers.b]\nurl_env = "B_URL"\n[servers.c]\nurl_env = "C_URL"\n'; } > "$work/fleet.toml"

pace="WITH t AS (SELECT created_at, row_number() OVER (ORDER BY created_at) AS i, count(*) OVER () AS n FROM shared.tenants),
  d AS (SELECT greatest(n / 10, 2) AS k, n, created_at, i FROM t)
SELECT coalesce(round(extract(epoch FROM max(created_at) FILTER (WHERE i <= k) - min(created_at) FILTER (WHERE i <= k)) * 1000 / (max(k) - 1)), 0),
       coalesce(round(extract(epoch FROM max(created_at) FILTER (WHERE i > n - k) - min(created_at) FILTER (WHERE i > n - k)) * 1000 / (max(k) - 1)), 0)
FROM d"
facts() {  # server -> "tenants relations pace_first pace_last"
  local u; u=$(url "$1")
  echo "$(sql "$u" "SELECT count(*) FROM shared.tenants") $(sql "$u" "SELECT count(*) FROM pg_class") $(sql "$u" "$pace" | tr '|' ' ')"
}

echo "part 1: $N tenants on one server, then $per on each of three ..." >&2
t0=$(now_ns)
DATABASE_URL=$(url one) "$bin" --quiet --config "$work/single.toml" up --jobs 2 --no-verify > "$work/single.out"
single_us=$(( ($(now_ns) - t0) / 1000 ))
t0=$(now_ns)
A_URL=$(url a) B_URL=$(url b) C_URL=$(url c) "$bin" --quiet --config "$work/fleet.toml" up --jobs 2 --no-verify > "$work/fleet.out"
fleet_us=$(( ($(now_ns) - t0) / 1000 ))

echo
echo "## part 1: up --jobs 2, $N tenants: 1 server against 3 servers ($(git -C "$repo" rev-parse --short HEAD))"
echo
echo "| run | server | tenants | relations | pace ms (first / last tenth) | wall s |"
echo "|---|---|---|---|---|---|"
read -r n rel first last <<< "$(facts one)"
printf '| 1 server | one | %s | %s | %s / %s | %.1f |\n' "$n" "$rel" "$first" "$last" "$(awk -v t="$single_us" 'BEGIN {print t/1e6}')"
total=0
for s in a b c; do
  read -r n rel first last <<< "$(facts "$s")"
  total=$(( total + n ))
  printf '| 3 servers | %s | %s | %s | %s / %s | %.1f |\n' "$s" "$n" "$rel" "$first" "$last" "$(awk -v t="$fleet_us" 'BEGIN {print t/1e6}')"
done
[ "$total" = "$N" ] || { echo "the fleet holds $total tenants, expected $N" >&2; exit 1; }
awk -v f="$fleet_us" -v s="$single_us" 'BEGIN {printf "\nwall time, 3 servers / 1 server: %.2fx\n", f/s}'

if [ "$PARTS" = all ]; then
  cleanup; trap - EXIT
  "$repo/bench/scale_out_move.sh" "$ROWS"
fi
