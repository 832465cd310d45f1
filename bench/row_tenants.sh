#!/usr/bin/env bash
# Benchmark: row tenancy (issue 14).
#  1. `tenant add` of a row tenant (BENCH_ROW_BLUEPRINT, default cma) against
#     `tenant add` of a schema tenant (BENCH_SCHEMA_BLUEPRINT, default
#     agent_mitra), N each, interleaved on the same server; medians and ratio.
#  2. verify with SMALL and then LARGE row tenants (default 10 and 1000): wall
#     time and the number of statements the server logged for it
#     (log_statement = all, counted in the sandbox's server.log), which must
#     not grow with the number of row tenants.
#
# Usage: bench/row_tenants.sh [N] [LARGE]   (defaults 20, 1000)
# Always starts a throwaway embedded PostgreSQL in a temp dir (part 2 reads
# its server log).
set -euo pipefail
N=${1:-20}
LARGE=${2:-1000}
SMALL=10
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"
row_bp=${BENCH_ROW_BLUEPRINT:-cma}
schema_bp=${BENCH_SCHEMA_BLUEPRINT:-agent_mitra}
# Attributes the row pack requires (cma: city and postcode), as name=value words.
row_attrs=${BENCH_ROW_ATTRIBUTES:-$([ "$row_bp" = cma ] && echo "city=Leeds postcode=LS1")}
set_args=(); toml_attrs=""
for pair in $row_attrs; do set_args+=(--set "$pair"); toml_attrs+="${pair%%=*} = \"${pair#*=}\"\n"; done

work=$(mktemp -d /tmp/provision-bench-XXXXXX)
chmod 755 "$work"
cleanup() {
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
# The repository's packs, plus the branches test pack (BENCH_ROW_BLUEPRINT=branches).
mkdir "$work/templates"
for pack in "$repo"/templates/*/; do ln -s "$pack" "$work/templates/$(basename "$pack")"; done
ln -s "$repo/tests/fixtures/branches" "$work/templates/branches"
printf 'templates = "templates"\n' > "$work/tenants.toml"
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE DATABASE_URL
"$bin" -q sandbox start >/dev/null
export DATABASE_URL=$("$bin" sandbox url)
"$bin" -q migrate

now_ns() { date +%s%N; }
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v t="$1" 'BEGIN {printf "%.1f", t/1000}'; }

# Part 1: one row tenant and one schema tenant per round.
: > row.txt; : > schema.txt
for i in $(seq 1 "$N"); do
  t0=$(now_ns); "$bin" -q tenant add "r$i" --name "Row $i" --no-verify --blueprint "$row_bp" "${set_args[@]}"; t1=$(now_ns)
  "$bin" -q tenant add "s$i" --name "Schema $i" --no-verify --blueprint "$schema_bp"; t2=$(now_ns)
  echo $(( (t1 - t0) / 1000 )) >> row.txt
  echo $(( (t2 - t1) / 1000 )) >> schema.txt
done
row=$(median row.txt); schema=$(median schema.txt)
echo "tenant add, $N each, interleaved:"
echo "  median row tenant ($row_bp): $(ms "$row") ms"
echo "  median schema tenant ($schema_bp): $(ms "$schema") ms"
echo "  ratio (row / schema): $(awk -v a="$row" -v b="$schema" 'BEGIN {printf "%.3f", a/b}')"
for i in $(seq 1 "$N"); do "$bin" -q tenant remove "s$i" --yes --no-backup; done

# Part 2: verify with SMALL, then LARGE, row tenants (declared in tenants.toml, made by `up`).
declare_row_tenants() {
  { printf 'templates = "templates"\n'
    for i in $(seq 1 "$1"); do
      printf '[tenants.r%s]\nname = "Row %s"\nblueprint = "%s"\n' "$i" "$i" "$row_bp"
      if [ -n "$toml_attrs" ]; then printf '[tenants.r%s.attributes]\n%b' "$i" "$toml_attrs"; fi
    done
  } > tenants.toml
}
log="$work/.provision/server.log"
psql -X -q -d "$DATABASE_URL" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
measure_verify() {
  local before after t0 t1
  before=$(wc -l < "$log")
  t0=$(now_ns); "$bin" -q verify >/dev/null; t1=$(now_ns)
  sleep 0.2
  after=$(wc -l < "$log")
  statements=$(tail -n +"$((before + 1))" "$log" | head -n "$((after - before))" | grep -cE 'LOG:  (statement|execute)') || true
  echo "  $1 row tenants: verify $(awk -v t=$(( (t1 - t0) / 1000 )) 'BEGIN {printf "%.1f", t/1000}') ms, $statements statements"
}
echo "verify (release build, same server):"
for count in "$SMALL" "$LARGE"; do
  declare_row_tenants "$count"
  psql -X -q -d "$DATABASE_URL" -c "ALTER SYSTEM SET log_statement = 'none'" -c "SELECT pg_reload_conf()" >/dev/null
  t0=$(now_ns); "$bin" -q up --no-verify --jobs 2 >/dev/null; t1=$(now_ns)
  echo "  up to $count row tenants: $(awk -v t=$(( (t1 - t0) / 1000 )) 'BEGIN {printf "%.1f", t/1000}') ms"
  psql -X -q -d "$DATABASE_URL" -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.2
  "$bin" -q verify >/dev/null || { echo "verify is not clean with $count row tenants"; "$bin" verify | tail -5; exit 1; }
  measure_verify "$count"
done
psql -X -q -d "$DATABASE_URL" -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null
