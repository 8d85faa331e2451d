#!/usr/bin/env bash
# User-space instructions per lookup request, counted by callgrind: a measure that does not
# drift with this VM's load, for comparing builds of the service side by side.
#   benches/instructions.sh                      # this checkout's release build
#   benches/instructions.sh old-binary new-binary
# Each binary serves the demo customers from a fresh SQLite file under valgrind; after 200
# unmeasured requests, the counters are zeroed and N requests (one keep-alive connection) are
# counted over every thread of the process. Cases: a known number with the answer cached, a
# national-format caller ID given as a GET query, and the known number with the answer cache
# off (`--cache-ttl 0`), so every lookup reads SQLite. Kernel work (the TCP stack) is not counted,
# and `rep stos` counts one instruction per byte, so compare builds with it, not servers.
# Needs valgrind (apt-get install valgrind) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${N:-2000}
command -v valgrind >/dev/null || { echo "benches/instructions.sh needs valgrind (apt-get install valgrind)" >&2; exit 1; }
if [ $# -eq 0 ]; then cargo build --release --quiet; set -- "$PWD/target/release/customer-lookup"; fi
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/client.py" <<'PY'
import http.client, sys
port, count, case = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(count):
    if case in ("post-cached", "post-uncached"):
        connection.request("POST", "/api/v1/lookup", body='{"phoneNumber":"tel:+15551234567"}',
                           headers={"Content-Type": "application/json"})
    else:
        connection.request("GET", "/api/v1/lookup?phoneNumber=%28555%29%20123-4567")
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200 and b"CUST-001" in body, (response.status, body)
PY

port=18470
printf '%-12s %-40s %14s %7s\n' case binary instr/request ratio
for case in post-cached get-national post-uncached; do
  cache=(); [ "$case" = post-uncached ] && cache=(--cache-ttl 0)
  first=
  for bin in "$@"; do
    rm -f "$work"/customers.db* "$work"/callgrind.*
    DATABASE_URL="sqlite://$work/customers.db" valgrind --tool=callgrind \
      --callgrind-out-file="$work/callgrind.%p" "$bin" serve --demo-data --bind "127.0.0.1:$port" \
      --workers 1 --rate-limit 0 "${cache[@]}" > "$work/serve.log" 2>&1 & pid=$!
    for _ in $(seq 600); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
    python3 "$work/client.py" "$port" 200 "$case"
    callgrind_control -z "$pid" >/dev/null 2>&1
    python3 "$work/client.py" "$port" "$requests" "$case"
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    total=$(grep -h '^summary:' "$(ls -t "$work"/callgrind.*.1 | head -1)" | awk '{print $2}')
    per=$((total / requests))
    first=${first:-$per}
    printf '%-12s %-40s %14d %7.2f\n' "$case" "$(basename "$(dirname "$bin")")/$(basename "$bin")" "$per" \
      "$(awk -v a="$per" -v b="$first" 'BEGIN {print a / b}')"
  done
done
