#!/usr/bin/env bash
# Lookup throughput and latency next to nginx, in one run, on loopback:
#   bench/http.sh                        # 1,000,000 customers, 10 s per case
#   ROWS=100000 DURATION=5 WARMUP=1 bench/http.sh
# The ceiling is nginx with one worker returning the same fixed JSON body. Every server runs
# with one HTTP worker pinned to core 0; wrk (1 thread, 32 connections) is pinned to core 1.
# Cases: the same known number again and again, and uniformly random numbers over all the
# imported customers, on SQLite and on Postgres. Needs wrk and nginx (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
postgres=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { echo "bench/http.sh needs $tool (apt-get install wrk nginx-light)" >&2; exit 1; }
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

python3 - "$rows" > "$work/customers.csv" <<'PY'
import sys
print("customer_id,name,loyalty_points,is_vip,phone_numbers")
for i in range(int(sys.argv[1])):
    print(f"C{i:07d},Customer {i},{i % 10000},{'true' if i % 7 == 0 else 'false'},+1555{i:07d}")
PY
psql "$postgres" -qc "CREATE DATABASE $database" >/dev/null
sqlite_url="sqlite://$work/customers.db"
pg_url="${postgres%/*}/$database"
"$bin" --database-url "$sqlite_url" import "$work/customers.csv" >/dev/null
"$bin" --database-url "$pg_url" import "$work/customers.csv" >/dev/null

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

serve() { # port url
  taskset -c 0 "$bin" --database-url "$2" serve --bind "127.0.0.1:$1" --workers 1 --rate-limit 0 \
    --no-migrate > "$work/serve-$1.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do curl -sf "127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.1; done
  echo "service on $1 did not become ready" >&2; exit 1
}
serve 18481 "$sqlite_url"
serve 18482 "$pg_url"

rss_of_port() { # resident MB of the process listening on the port
  local pid; pid=$(ss -ltnpH "sport = :$1" | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2)
  awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$pid/status"
}
measure() { # label port script
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
{
  measure nginx 18480 same
  measure sqlite-same 18481 same
  measure sqlite-random 18481 random
  measure postgres-same 18482 same
  measure postgres-random 18482 random
} > "$work/results"
ceiling=$(awk '$1 == "nginx" {print $2}' "$work/results")
printf '%-16s %10s %9s %9s %8s %7s\n' case req/s p50 p99 RSS_MB ratio
while read -r label rps p50 p99 rss; do
  printf '%-16s %10.0f %9s %9s %8s %7.2f\n' "$label" "$rps" "$p50" "$p99" "$rss" "$(echo "$rps / $ceiling" | bc -l)"
done < "$work/results"
echo "customers: $rows; $duration s per case after $warmup s of warm-up; machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
