#!/usr/bin/env bash
# HTTPS next to HTTPS with mutual TLS, in one run, on loopback:
#   benches/tls.sh                               # 10 s per case, 5 rounds
#   DURATION=5 ROUNDS=3 benches/tls.sh
#   BASELINE_BIN=path/to/other/customer-lookup benches/tls.sh   # the same TLS cases for another build, interleaved
# Cases: `keepalive` (lookups over 32 kept-alive TLS connections: the fast path) and `handshake`
# (a full TLS 1.3 handshake, no resumption, and one lookup per connection; 8 at a time), for
# the service with TLS only (`tls`), the same build with mutual TLS required (`mtls`, a client
# certificate checked against --client-ca and --client-cert-name), and BASELINE_BIN with TLS only
# (`base`). Every server runs one HTTP worker pinned to core 0; the load generator
# (examples/tls_load.rs, one thread) is pinned to core 1. Needs openssl and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10}
rounds=${ROUNDS:-5}
for tool in openssl taskset curl; do
  command -v "$tool" >/dev/null || { echo "benches/tls.sh needs $tool" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet --bin customer-lookup --example tls_load
bin=$PWD/target/release/customer-lookup
load=$PWD/target/release/examples/tls_load

"$bin" gen-cert --out-dir "$work" >/dev/null
# A client CA and a client certificate named as Genesys Cloud's US East data actions are.
name=dataactions.prod.us-east-1.mypurecloud.com
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench client CA" \
  -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
  -keyout "$work/client-key.pem" -out "$work/client.csr" 2>/dev/null
openssl x509 -req -in "$work/client.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -days 2 \
  -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=clientAuth\n' "$name") \
  -out "$work/client.pem" 2>/dev/null

serve() { # port binary [flags…]
  local port=$1 binary=$2; shift 2
  mkdir -p "$work/$port"
  (cd "$work/$port" && exec taskset -c 0 "$binary" serve --demo-data --bind "127.0.0.1:$port" --workers 1 \
    --rate-limit 0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" "$@" > serve.log 2>&1) & pids+=($!)
  for _ in $(seq 100); do
    curl -s --cacert "$work/cert.pem" ${mtls_client:+--cert "$work/client.pem" --key "$work/client-key.pem"} \
      "https://localhost:$port/readyz" >/dev/null && return
    sleep 0.1
  done
  echo "service on $port did not become ready" >&2; exit 1
}
serve 18491 "$bin"
mtls_client=1 serve 18492 "$bin" --client-ca "$work/ca.pem" --client-cert-name "$name"
cases=("tls 18491" "mtls 18492")
if [[ -n "${BASELINE_BIN:-}" ]]; then
  serve 18493 "$BASELINE_BIN"
  cases+=("base 18493")
fi

measure() { # label port mode -> "label mode rate failures"
  local client=() connections=32
  [[ $1 == mtls ]] && client=("$work/client.pem" "$work/client-key.pem")
  [[ $3 == handshake ]] && connections=8
  taskset -c 1 "$load" "127.0.0.1:$2" "$work/cert.pem" "$3" "$connections" 1 "${client[@]}" >/dev/null
  echo "$1 $(taskset -c 1 "$load" "127.0.0.1:$2" "$work/cert.pem" "$3" "$connections" "$duration" "${client[@]}")"
}
# The machine's speed drifts: cases are interleaved within each round, and ratios are taken
# within a round; the table shows each ratio's median round.
for round in $(seq "$rounds"); do
  for mode in keepalive handshake; do
    for case in "${cases[@]}"; do
      read -r label port <<<"$case"
      echo "$round $(measure "$label" "$port" "$mode")" | tee -a "$work/rounds" >&2
    done
  done
done
# $work/rounds: round label mode rate failures
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
rate() { awk -v l="$1" -v m="$2" -v r="$3" '$1 == r && $2 == l && $3 == m {print $4}' "$work/rounds"; }
printf '%-10s %-10s %12s %9s\n' case mode per_second failures
for case in "${cases[@]}"; do
  label=${case%% *}
  for mode in keepalive handshake; do
    awk -v l="$label" -v m="$mode" '$2 == l && $3 == m {print $4, $5}' "$work/rounds" | sort -n |
      awk -v l="$label" -v m="$mode" -v n="$rounds" '{v[NR] = $1; f += $2} NR == int((n + 1) / 2) {med = $1}
        END {printf "%-10s %-10s %12.0f %9d\n", l, m, med, f}'
  done
done
ratio() { # numerator denominator mode -> the median over rounds of numerator/denominator
  for round in $(seq "$rounds"); do
    awk -v a="$(rate "$1" "$3" "$round")" -v b="$(rate "$2" "$3" "$round")" 'BEGIN {printf "%.3f\n", a / b}'
  done | median
}
echo "mtls/tls handshakes per second: $(ratio mtls tls handshake) (median of rounds); keep-alive lookups: $(ratio mtls tls keepalive)"
if [[ -n "${BASELINE_BIN:-}" ]]; then
  echo "tls/base keep-alive lookups: $(ratio tls base keepalive); handshakes: $(ratio tls base handshake) (median of rounds)"
fi
echo "$rounds rounds; $duration s per case; machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
