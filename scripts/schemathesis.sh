#!/usr/bin/env bash
# The OpenAPI document against the service itself: schemathesis (pinned, in .tools/venv) runs
# every operation, the authenticated admin API included, with all of its checks, against the
# service started on a fresh SQLite file with demo data and credentials. Fails on any finding.
#   scripts/schemathesis.sh                 # builds the binary if needed
#   MAX_EXAMPLES=200 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/serve-for-test.sh
source scripts/serve-for-test.sh

scripts/python-tools.sh >/dev/null

# One key for both: schemathesis sends one credential, and lookups and the admin API each take
# only their own kind, so the same key is given as both.
key="schemathesis-$RANDOM-$RANDOM-key"
serve_for_test "$work" --demo-data \
  --api-key "$key" --admin-key "$key" --rate-limit 0 --log-level warn,customer_lookup=info

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
