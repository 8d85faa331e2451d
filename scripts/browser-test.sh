#!/usr/bin/env bash
# The interactive docs in a real browser: installs Debian's chromium and chromium-driver when
# missing (root, Debian's packages: the browser and its driver come in matching versions) and
# the pinned selenium into .tools/venv, starts the service on a fresh SQLite file with the demo
# customers, and runs tests/browser/docs_try_it_out.py against it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/serve-for-test.sh
source scripts/serve-for-test.sh

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
  echo "browser-test: installing Debian's chromium and chromium-driver"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
scripts/python-tools.sh >/dev/null

serve_for_test "$work" --demo-data --docs on

HOME="$work" .tools/venv/bin/python tests/browser/docs_try_it_out.py "http://$address"
