#!/usr/bin/env bash
# Benchmark: `provision up --jobs J --no-verify` creating N tenants on an
# empty database (J = 1, 2, 4) versus a sequential loop of
# `psql -X -1 -f` over the SQL `provision tenant render` prints for the same
# N tenants. Each side gets a fresh database with the shared migrations
# applied (untimed). Afterwards: relations (pg_class), database size, the
# registered tenant count, the CLI's peak RSS (`/usr/bin/time -v`) at N and at
# N/10 tenants (memory must not grow with the fleet), and the largest private
# memory of a server process. Then a no-op `tenant upgrade --all --jobs 2`
# over the N tenants, 3 runs.
# Targets: `--jobs 2` <= 0.75x the loop; no-op median < 1 s.
#
# A run of `up` that exceeds the budget (BENCH_BUDGET seconds; default twice
# the loop's time) is stopped and reported as "> budget" with the tenants it
# finished. For information, one more row runs `up --jobs 2` as a new process
# per slice of 50 tenants (BENCH_SLICE), so each slice starts on new server
# sessions. If the jobs-2 run did not finish, the no-op runs on the sliced
# run's database instead (also built by `up --jobs 2`). BENCH_SLICE=0 skips
# the sliced row when the jobs-2 run finished.
#
# Usage: bench/fleet.sh [N]   (default 1000; e.g. 200 for a quick check)
# Starts a throwaway embedded PostgreSQL in a temp dir under BENCH_TMPDIR
# (default /tmp). Tenant roles are cluster-wide, so the script drops them
# together with each database, and every run starts with no tenant roles.
set -euo pipefail
N=${1:-1000}
small=$(( N / 10 > 0 ? N / 10 : 1 ))
slice=${BENCH_SLICE:-50}
repo=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/release/provision"
if [ ! -x /usr/bin/time ]; then
  apt-get install -y -q time >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q time >/dev/null; }
fi

work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/provision-bench-XXXXXX")
chmod 755 "$work"
cleanup() {
  (cd "$work" && "$bin" -q sandbox stop >/dev/null 2>&1 || true)
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSERVICE PGOPTIONS DATABASE_URL
"$bin" -q sandbox start >/dev/null
sandbox=$("$bin" sandbox url)
# The sandbox URL with another database (URL or key=value form).
url_of() {
  case "$sandbox" in
    *://*) local base=${sandbox%%\?*} query=""
           [ "$base" != "$sandbox" ] && query="?${sandbox#*\?}"
           local auth=${base#*://}; local scheme=${base%%://*}
           echo "$scheme://${auth%%/*}/$1$query" ;;
    *) echo "$sandbox dbname=$1" ;;
  esac
}
admin=$(url_of postgres)
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# tenants.toml with tenants 1..n: t0001… (codes as wide as N needs, at least 4 digits).
width=${#N}; [ "$width" -lt 4 ] && width=4
code() { printf "t%0${width}d" "$1"; }
config() {  # n -> path of a tenants.toml with n tenants
  local f="$work/tenants_$1.toml"
  [ -f "$f" ] || awk -v n="$1" -v w="$width" -v repo="$repo" 'BEGIN {
    printf "templates = \"%s/templates\"\n", repo
    for (i = 1; i <= n; i++) printf "\n[tenants.t%0" w "d]\nname = \"Fleet tenant %d\"\n", i, i
  }' > "$f"
  echo "$f"
}

# A fresh database with the shared migrations; no tenant roles in the cluster.
fresh() {  # name
  sql "$admin" "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$admin" >/dev/null <<'SQL'
SELECT format('DROP ROLE %I', rolname) FROM pg_roles WHERE rolname ~ '^t[0-9]+_(owner|app|ro)$' \gexec
SQL
  sql "$admin" "CREATE DATABASE $1"
  DATABASE_URL=$(url_of "$1") PROVISION_CONFIG=$(config "$N") "$bin" -q migrate
}
drop() { sql "$admin" "DROP DATABASE $1 WITH (FORCE)"; }
now_ns() { date +%s%N; }
registered() { sql "$(url_of "$1")" "SELECT count(*) FROM shared.tenants"; }
# Facts about a finished database: relations, bytes, registered tenants, and
# the wall time per tenant over the first and the last tenth of the tenants
# (from the registry's created_at, each tenant's transaction start).
pace="WITH t AS (SELECT created_at, row_number() OVER (ORDER BY created_at) AS i, count(*) OVER () AS n FROM shared.tenants),
  d AS (SELECT greatest(n / 10, 2) AS k, n, created_at, i FROM t)
SELECT coalesce(round(extract(epoch FROM max(created_at) FILTER (WHERE i <= k) - min(created_at) FILTER (WHERE i <= k)) * 1000 / (max(k) - 1)), 0),
       coalesce(round(extract(epoch FROM max(created_at) FILTER (WHERE i > n - k) - min(created_at) FILTER (WHERE i > n - k)) * 1000 / (max(k) - 1)), 0)
FROM d"
facts() {  # db -> "relations bytes tenants pace_first pace_last"
  local u; u=$(url_of "$1")
  echo "$(sql "$u" "SELECT count(*) FROM pg_class") $(sql "$u" "SELECT pg_database_size(current_database())") $(registered "$1") $(sql "$u" "$pace" | tr '|' ' ')"
}

# The largest private memory (RssAnon, KiB) of any server process, sampled
# every 0.5 s until killed: the backends' caches, which the CLI's RSS omits.
postmaster=$(head -1 "$work/.provision/data/postmaster.pid")
sample_server() {  # out-file
  local max=0 now
  while :; do
    now=$(for p in $(pgrep -P "$postmaster"); do awk '/^RssAnon:/ {print $2}' "/proc/$p/status" 2>/dev/null; done | sort -n | tail -1) || true
    if [ -n "$now" ] && [ "$now" -gt "$max" ]; then max=$now; echo "$max" > "$1"; fi
    sleep 0.5
  done
}
sampler=""
start_sampler() { echo 0 > "$work/server_$1.txt"; sample_server "$work/server_$1.txt" & sampler=$!; }
stop_sampler() { kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; cat "$work/server_$1.txt"; }

# One `provision up --jobs J` process over the first n tenants, under
# /usr/bin/time -v and a time limit; prints "micros rss_kb status" (status:
# ok, or cut when the limit stopped it).
up_once() {  # db jobs n limit_seconds tag
  local t0 t1 rc=0 status=ok
  t0=$(now_ns)
  DATABASE_URL=$(url_of "$1") PROVISION_CONFIG=$(config "$3") \
    /usr/bin/time -v -o "$work/time_$5.txt" timeout -s TERM "$4" "$bin" --quiet up --jobs "$2" --no-verify \
    > "$work/up_$5.out" 2> "$work/up_$5.err" || rc=$?
  t1=$(now_ns)
  if [ "$rc" = 124 ]; then status=cut
  elif [ "$rc" != 0 ]; then
    echo "provision up --jobs $2 ($3 tenants) failed (exit $rc):" >&2; tail -20 "$work/up_$5.err" >&2; exit 1
  fi
  echo "$(( (t1 - t0) / 1000 )) $(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time_$5.txt") $status"
}
# Times `up --jobs J` over n tenants on a fresh database; prints
# "micros rss_kb status server_kb".
run_up() {  # db jobs n
  fresh "$1"
  start_sampler "$1"
  local out; out=$(up_once "$1" "$2" "$3" "$budget" "$1")
  echo "$out $(stop_sampler "$1")"
}
# `up --jobs J` over N tenants as one new process per slice of tenants, on
# a fresh database; prints "micros max_rss_kb status server_kb".
run_slices() {  # db jobs
  fresh "$1"
  start_sampler "$1"
  local k=0 us=0 rss=0 out t r s
  while [ "$k" -lt "$N" ]; do
    k=$(( k + slice > N ? N : k + slice ))
    out=$(up_once "$1" "$2" "$k" 3600 "$1_$k"); read -r t r s <<< "$out"
    us=$(( us + t )); [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$us $rss ok $(stop_sampler "$1")"
}

echo "tenants: $N (RSS also at $small); blueprint: $(ls "$repo"/templates/agent_mitra/tenant/V*.sql.tera | wc -l) versions" >&2

# Baseline: render every tenant's SQL first (untimed), then the psql loop.
fresh fleet_loop
mkdir -p "$work/sql"
for i in $(seq 1 "$N"); do
  PROVISION_CONFIG=$(config "$N") "$bin" tenant render "$(code "$i")" --name "Fleet tenant $i" > "$work/sql/$(code "$i").sql"
done
loop_url=$(url_of fleet_loop)
echo "psql loop over $N rendered files ..." >&2
start_sampler fleet_loop
t0=$(now_ns)
for f in "$work"/sql/*.sql; do
  psql -X -q -1 -v ON_ERROR_STOP=1 -d "$loop_url" -f "$f" >/dev/null
done
t1=$(now_ns)
loop_server=$(stop_sampler fleet_loop)
loop_us=$(( (t1 - t0) / 1000 ))
if [ "$(registered fleet_loop)" != "$N" ]; then echo "psql loop: $(registered fleet_loop) tenants, expected $N" >&2; exit 1; fi
out=$(facts fleet_loop); read -r loop_rel loop_size _ loop_first loop_last <<< "$out"
per_tenant=$(sql "$loop_url" "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$(code 1)_schema'")
drop fleet_loop
budget=${BENCH_BUDGET:-$(( loop_us * 2 / 1000000 + 1 ))}
echo "psql loop: $(awk -v t="$loop_us" 'BEGIN {printf "%.1f", t/1e6}') s; budget per up run: $budget s" >&2

declare -A secs rss status server rss_small done rel size first last
for j in 1 4 2; do
  echo "provision up --jobs $j, $small tenants ..." >&2
  out=$(run_up "fleet_small_j$j" "$j" "$small"); read -r _ "rss_small[$j]" _ _ <<< "$out"
  drop "fleet_small_j$j"
  echo "provision up --jobs $j, $N tenants ..." >&2
  out=$(run_up "fleet_j$j" "$j" "$N"); read -r "secs[$j]" "rss[$j]" "status[$j]" "server[$j]" <<< "$out"
  out=$(facts "fleet_j$j"); read -r "rel[$j]" "size[$j]" "done[$j]" "first[$j]" "last[$j]" <<< "$out"
  if [ "${status[$j]}" = ok ] && [ "${done[$j]}" != "$N" ]; then echo "up --jobs $j: ${done[$j]} tenants, expected $N" >&2; exit 1; fi
  [ "$j" = 2 ] || drop "fleet_j$j"
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Aggregates the server log from a line on by statement (its first line that
# is not a comment).
log="$work/.provision/server.log"
profile_statements() {  # from-line wall-micros
  tail -n +"$(( $1 + 1 ))" "$log" | awk -v wall="$2" '
    function flush() { if (have && key !~ /pg_reload_conf|ALTER SYSTEM/) { t[key] += d; c[key]++; total += d; n++ }; have = 0 }
    /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / {
      flush()
      if (match($0, /duration: [0-9.]+ ms  [a-z]+/)) {
        d = substr($0, RSTART + 10) + 0; kind = $0; sub(/.*duration: [0-9.]+ ms  /, "", kind)
        rest = kind; sub(/^[^:]*: /, "", rest); sub(/[ :].*/, "", kind)
        have = 1; key = ""; if (rest !~ /^--/ && rest != "") key = kind ": " substr(rest, 1, 80)
      }
      next
    }
    have && key == "" { line = $0; sub(/^[ \t]+/, "", line); if (line != "" && line !~ /^--/) key = kind ": " substr(line, 1, 80) }
    END {
      flush()
      printf "logged run: %.0f ms wall, %d statements, %.0f ms server time; by statement:\n", wall / 1000, n, total
      for (k in t) printf "%10.1f ms %6d x  %s\n", t[k], c[k], k | "sort -rn | head -12"
    }'
}
# No-op upgrade over the N tenants of db: 3 runs, median in $noop. When it
# is slow (or BENCH_PROFILE is set), one more run with every statement
# logged, aggregated in $noop_profile.
noop_profile=""
noop_runs() {  # db
  local u t0 t1 start; u=$(url_of "$1")
  : > noop.txt
  for r in 1 2 3; do
    t0=$(now_ns)
    DATABASE_URL="$u" PROVISION_CONFIG=$(config "$N") "$bin" tenant upgrade --all --jobs 2 > "noop_$r.out" 2>&1
    t1=$(now_ns)
    echo $(( (t1 - t0) / 1000 )) >> noop.txt
  done
  noop=$(median noop.txt)
  if [ "$noop" -ge 1000000 ] || [ -n "${BENCH_PROFILE:-}" ]; then
    sql "$admin" "ALTER SYSTEM SET log_min_duration_statement = 0"
    sql "$admin" "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
    start=$(wc -l < "$log")
    t0=$(now_ns)
    DATABASE_URL="$u" PROVISION_CONFIG=$(config "$N") "$bin" tenant upgrade --all --jobs 2 > noop_log.out 2>&1
    t1=$(now_ns)
    sql "$admin" "ALTER SYSTEM RESET log_min_duration_statement"
    sql "$admin" "SELECT pg_reload_conf()" >/dev/null
    noop_profile=$(profile_statements "$start" "$(( (t1 - t0) / 1000 ))")
  fi
}
# The no-op runs on the jobs-2 database if that run finished; otherwise on
# the sliced run's database below (also made by up --jobs 2).
noop_note=""
if [ "${status[2]}" = ok ]; then
  noop_runs fleet_j2; noop_note="the up --jobs 2 database"
fi
drop fleet_j2

# For information: up --jobs 2 as a new process per slice of tenants
# (BENCH_SLICE=0 skips it, unless the jobs-2 run did not finish).
if [ "$slice" != 0 ] || [ -z "$noop_note" ]; then
  [ "$slice" = 0 ] && slice=50
  echo "provision up --jobs 2, a new process per $slice tenants, $N tenants ..." >&2
  out=$(run_slices fleet_slices 2); read -r "secs[s]" "rss[s]" "status[s]" "server[s]" <<< "$out"
  out=$(facts fleet_slices); read -r "rel[s]" "size[s]" "done[s]" "first[s]" "last[s]" <<< "$out"
  [ "${done[s]}" = "$N" ] || { echo "sliced up: ${done[s]} tenants, expected $N" >&2; exit 1; }
  if [ -z "$noop_note" ]; then
    noop_runs fleet_slices; noop_note="the sliced up --jobs 2 database (the jobs-2 run did not finish)"
  fi
  drop fleet_slices
fi

ms() { awk -v t="$1" 'BEGIN {printf "%.0f", t/1000}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }
echo
echo "tenants: $N; relations per tenant: $per_tenant; sandbox: fsync off, Unix socket; budget per up run: $budget s"
echo "RSS: the CLI's peak (/usr/bin/time -v) at $N and at $small tenants; server: the largest RssAnon of one server process, sampled every 0.5 s"
echo "pace: wall ms per tenant over the first / the last tenth of the tenants created (registry created_at)"
fmt='%-24s %9s %8s %8s %10s %10s %11s %10s %9s %11s\n'
printf "$fmt" "run" "tenants" "seconds" "vs loop" "RSS @$N" "RSS @$small" "server" "relations" "size MiB" "pace ms"
printf "$fmt" "psql -1 -f loop" "$N" "$(awk -v t="$loop_us" 'BEGIN {printf "%.1f", t/1e6}')" "1.00x" "-" "-" \
  "$(mib "$loop_server") MiB" "$loop_rel" "$(mib $((loop_size / 1024)))" "$loop_first/$loop_last"
row() {  # label key
  local k=$2 cut="" r=""
  [ "${status[$k]}" = cut ] && cut=">"
  [ -n "${rss_small[$k]:-}" ] && r="$(mib "${rss_small[$k]}") MiB" || r="-"
  printf "$fmt" "$1" "${done[$k]}" "$cut$(awk -v t="${secs[$k]}" 'BEGIN {printf "%.1f", t/1e6}')" \
    "$cut$(awk -v t="${secs[$k]}" -v b="$loop_us" 'BEGIN {printf "%.2fx", t/b}')" \
    "$(mib "${rss[$k]}") MiB" "$r" "$(mib "${server[$k]}") MiB" \
    "${rel[$k]}" "$(mib $((size[$k] / 1024)))" "${first[$k]}/${last[$k]}"
}
for j in 1 2 4; do row "up --jobs $j" "$j"; done
[ -n "${secs[s]:-}" ] && row "up --jobs 2, per $slice" s
if [ "${status[2]}" = ok ]; then
  echo "target: up --jobs 2 <= 0.75x the loop: $(awk -v t="${secs[2]}" -v b="$loop_us" 'BEGIN {r = t/b; printf "%.2fx (%s)", r, r <= 0.75 ? "met" : "missed"}')"
else
  echo "target: up --jobs 2 <= 0.75x the loop: missed (stopped at the ${budget} s budget, $(awk -v b="$budget" -v l="$loop_us" 'BEGIN {printf "%.2fx", b*1e6/l}') the loop, after ${done[2]} of $N tenants)"
fi
echo "no-op tenant upgrade --all --jobs 2 on $noop_note, 3 runs: median $(ms "$noop") ms ($(sort -n noop.txt | tr '\n' ' ' | awk '{printf "%.0f–%.0f ms", $1/1000, $NF/1000}')); target < 1000 ms: $([ "$noop" -lt 1000000 ] && echo met || echo missed)"
echo "no-op output (last run): $(tail -1 noop_3.out)"
[ -n "$noop_profile" ] && printf '%s\n' "$noop_profile"
exit 0
