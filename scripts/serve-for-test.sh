# Sourced by the scripts that test the running service. Sourcing builds the binary and makes
# `work`, a fresh folder that goes, with the service, when the script exits.
# `serve_for_test WORK ARGS...` starts target/debug/customer-lookup serve on a fresh SQLite file
# in WORK, on a free loopback port, with ARGS, and sets `pid` and `address` (host:port) once it
# listens.
cargo build --quiet --bin customer-lookup
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

serve_for_test() {
  local work=$1
  shift
  DATABASE_URL="sqlite://$work/customers.db" target/debug/customer-lookup serve \
    --bind 127.0.0.1:0 "$@" > "$work/serve.log" 2>&1 &
  pid=$!
  address=
  # The log appears once the background shell has opened it: the first reads may find none.
  for _ in $(seq 300); do
    address=$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$work/serve.log" 2>/dev/null | head -1 | cut -d/ -f3) || true
    [[ -n "$address" ]] && return 0
    sleep 0.1
  done
  echo "the service did not start:" >&2
  cat "$work/serve.log" >&2
  return 1
}
