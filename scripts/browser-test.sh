#!/usr/bin/env bash
# The interactive docs in a real browser: installs Debian's chromium and chromium-driver when
# missing (root, Debian's packages: the browser and its driver come in matching versions) and
# the pinned selenium into .tools/venv, starts the service on a fresh SQLite file with the demo
# customers, and runs tests/browser/docs_try_it_out.py against it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "browser-test: installing Debian's chromium and chromium-driver"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
scripts/python-tools.sh >/dev/null
cargo build --quiet --bin customer-lookup

work=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

DATABASE_URL="sqlite://$work/customers.db" target/debug/customer-lookup serve --bind 127.0.0.1:0 \
  --demo-data --docs on > "$work/serve.log" 2>&1 &
pid=$!
address=
for _ in $(seq 300); do
  address=$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$work/serve.log" | head -1 | cut -d/ -f3) || true
  [[ -n "$address" ]] && break
  sleep 0.1
done
[[ -n "$address" ]] || { echo "the service did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

HOME="$work" .tools/venv/bin/python tests/browser/docs_try_it_out.py "http://$address"
