#!/usr/bin/env bash
# The OpenAPI document against the service itself: schemathesis (pinned, in .tools/venv) runs
# every operation, the authenticated admin API included, with all of its checks, against the
# service started on a fresh SQLite file with demo data and credentials. Fails on any finding.
#   scripts/schemathesis.sh                 # builds the binary if needed
#   MAX_EXAMPLES=200 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/python-tools.sh >/dev/null
cargo build --quiet --bin customer-lookup
bin=target/debug/customer-lookup

work=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# One key for both: schemathesis sends one credential, and lookups and the admin API each take
# only their own kind, so the same key is given as both.
key="schemathesis-$RANDOM-$RANDOM-key"
DATABASE_URL="sqlite://$work/customers.db" "$bin" serve --bind 127.0.0.1:0 --demo-data \
  --api-key "$key" --admin-key "$key" --rate-limit 0 --log-level warn,customer_lookup=info \
  > "$work/serve.log" 2>&1 &
pid=$!
address=
for _ in $(seq 300); do
  address=$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$work/serve.log" | head -1 | cut -d/ -f3) || true
  [[ -n "$address" ]] && break
  sleep 0.1
done
[[ -n "$address" ]] || { echo "the service did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

set +e
.tools/venv/bin/schemathesis --config-file scripts/schemathesis.toml run \
  "http://$address/openapi.json" \
  --checks all \
  --header "X-API-Key: $key" \
  --max-examples "${MAX_EXAMPLES:-60}" \
  --seed "${SEED:-20261201}" \
  --workers 1 \
  --no-color
status=$?
set -e
if grep -q "panicked" "$work/serve.log"; then
  echo "the service panicked:" >&2
  grep -B2 -A5 "panicked" "$work/serve.log" >&2
  exit 1
fi
exit "$status"
