#!/usr/bin/env bash
# Lookup throughput and latency next to nginx, in one run, on loopback:
#   benches/http.sh                        # 1,000,000 customers, 10 s per case
#   ROWS=100000 DURATION=5 WARMUP=1 ROUNDS=1 benches/http.sh
#   BASELINE_BIN=path/to/other/customer-lookup benches/http.sh   # the same cases for another build, interleaved
#   ONLY=postgres-random benches/http.sh          # only the cases whose label matches
#   SHARED_PERCENT=10 benches/http.sh             # that share of the numbers on two customers each
# The ceiling is nginx with one worker returning the same fixed JSON body. Every server runs
# with one HTTP worker pinned to core 0; wrk (1 thread, 32 connections) is pinned to core 1.
# Cases: the same known number again and again, and uniformly random numbers over all the
# imported customers, on SQLite and on Postgres. Needs wrk and nginx (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
rounds=${ROUNDS:-5}
postgres=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { echo "benches/http.sh needs $tool (apt-get install wrk nginx-light)" >&2; exit 1; }
done
work=$(mktemp -d)
database="bench_http_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet
bin=$PWD/target/release/customer-lookup
body='{"customer_id":"CUST-001","name":"Alice Smith","loyalty_points":1500,"is_vip":true}'

# With SHARED_PERCENT, that share of the numbers is shared: customer i also has the number of
# customer i - 1 for every i that is 1 modulo 100 / SHARED_PERCENT (a household's landline).
python3 - "$rows" "${SHARED_PERCENT:-0}" > "$work/customers.csv" <<'PY'
import sys
rows, shared = int(sys.argv[1]), float(sys.argv[2])
every = round(100 / shared) if shared > 0 else 0
print("customer_id,name,loyalty_points,is_vip,phone_numbers")
for i in range(rows):
    numbers = f"+1555{i:07d}"
    if every and i % every == 1:
        numbers += f";+1555{i - 1:07d}"
    print(f"C{i:07d},Customer {i},{i % 10000},{'true' if i % 7 == 0 else 'false'},\"{numbers}\"")
PY
psql "$postgres" -qc "CREATE DATABASE $database" >/dev/null
sqlite_url="sqlite://$work/customers.db"
pg_url="${postgres%/*}/$database"
DATABASE_URL="$sqlite_url" "$bin" import "$work/customers.csv" >/dev/null
DATABASE_URL="$pg_url" "$bin" import "$work/customers.csv" >/dev/null

cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  server {
    listen 127.0.0.1:18480;
    location / { default_type application/json; return 200 '$body'; }
  }
}
NGINX
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" & pids+=($!)

# The same number every time, and a uniformly random customer's number every time.
cat > "$work/same.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"phoneNumber":"tel:+15550000042"}'
LUA
cat > "$work/random.lua" <<LUA
math.randomseed(42)
request = function()
  local body = string.format('{"phoneNumber":"tel:+1555%07d"}', math.random(0, $rows - 1))
  return wrk.format("POST", "/api/v1/lookup", {["Content-Type"] = "application/json"}, body)
end
LUA

serve() { # port url [binary]
  DATABASE_URL="$2" taskset -c 0 "${3:-$bin}" serve --bind "127.0.0.1:$1" --workers 1 --rate-limit 0 \
    --no-migrate > "$work/serve-$1.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do curl -sf "127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "service on $1 did not become ready" >&2; exit 1
}
serve 18481 "$sqlite_url"
serve 18482 "$pg_url"
cases=("sqlite-same 18481 same" "sqlite-random 18481 random" "postgres-same 18482 same" "postgres-random 18482 random")
if [[ -n "${BASELINE_BIN:-}" ]]; then
  # Both builds read the same files; the one under test applied the migrations.
  serve 18483 "$sqlite_url" "$BASELINE_BIN"
  serve 18484 "$pg_url" "$BASELINE_BIN"
  cases+=("base-sqlite-same 18483 same" "base-sqlite-random 18483 random"
          "base-postgres-same 18484 same" "base-postgres-random 18484 random")
fi
if [[ -n "${ONLY:-}" ]]; then # e.g. ONLY=postgres-random: only the cases whose label matches
  kept=(); for c in "${cases[@]}"; do [[ "${c%% *}" =~ $ONLY ]] && kept+=("$c"); done; cases=("${kept[@]}")
fi
labels=$(for c in "${cases[@]}"; do echo -n "${c%% *} "; done)

rss_of_port() { # resident MB of the process listening on the port
  local pid; pid=$(ss -ltnpH "sport = :$1" | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2)
  awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$pid/status"
}
measure() { # label port script -> "label req/s p50 p99 RSS_MB"
  # A short unmeasured run first, so caches (page cache, Postgres buffers, pools) are warm.
  taskset -c 1 wrk -t1 -c32 -d"${warmup}s" -s "$work/$3.lua" "http://127.0.0.1:$2/api/v1/lookup" >/dev/null
  local out; out=$(taskset -c 1 wrk -t1 -c32 -d"${duration}s" --latency -s "$work/$3.lua" "http://127.0.0.1:$2/api/v1/lookup")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: non-2xx answers!" >&2; grep "Non-2xx" <<<"$out" >&2; fi
  echo "$1 $rps $p50 $p99 $(rss_of_port "$2")"
}
# This machine's speed drifts by tens of percent within minutes, so every case is measured
# right after nginx, and each case's ratio is to the nginx run just before it. Each case is
# measured $rounds times, interleaved; the table shows the round with the median ratio.
for round in $(seq "$rounds"); do
  for case in "${cases[@]}"; do
    read -r label port script <<<"$case"
    nginx=$(measure nginx 18480 same)
    service=$(measure "$label" "$port" "$script")
    echo "$round $nginx $service" | tee -a "$work/rounds" >&2
  done
done
# $work/rounds, a line per measurement: round, then nginx's label req/s p50 p99 RSS, then the case's.
printf '%-16s %10s %9s %9s %8s %7s\n' case req/s p50 p99 RSS_MB ratio
# nginx: its median run of all of them.
awk '{print $3, $4, $5, $6}' "$work/rounds" | sort -n | awk -v n="$(wc -l < "$work/rounds")" \
  'NR == int((n + 1) / 2) {printf "%-16s %10.0f %9s %9s %8s %7.2f\n", "nginx", $1, $2, $3, $4, 1}'
# Each case: the round with its median ratio (to the nginx run just before it).
for label in $labels; do
  awk -v l="$label" '$7 == l {print $8 / $3, $8, $9, $10, $11}' "$work/rounds" | sort -n |
    awk -v l="$label" -v n="$rounds" 'NR == int((n + 1) / 2) {
      printf "%-16s %10.0f %9s %9s %8s %7.2f\n", l, $2, $3, $4, $5, $1 }'
done
echo "ratios of every round:$(for label in $labels; do
  echo -n " $label $(awk -v l="$label" '$7 == l {printf "%.2f/", $8 / $3}' "$work/rounds" | sed 's,/$,,');"
done)"
echo "customers: $rows; $rounds rounds; $duration s per case after $warmup s of warm-up; machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
