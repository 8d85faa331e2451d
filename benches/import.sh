#!/usr/bin/env bash
# Import speed and peak memory, SQLite and Postgres side by side in one run:
#   benches/import.sh                 # 1,000,000 customers
#   ROWS=100000 benches/import.sh     # smaller
#   BACKENDS=sqlite benches/import.sh # one backend
# Each backend loads the same generated CSV into an empty database (insert), then loads it again
# (every row unchanged), then exports it; then loads the same customers from a CRM-layout export
# (own column names, two phone columns, a country-name column, a tier) with 1% bad rows (short
# numbers, non-numeric points, empty names) through --map and
# --on-invalid skip into a second empty database (skip), checks that exactly the good customers
# arrived and exactly the bad rows went to the reject file, and prints its rate against the
# native insert of the same number of rows. Peak memory is the process's maximum resident set
# size (GNU time). Figures drift on a shared machine; compare rows within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-1000000}
postgres=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
database="bench_import_$$"
cleanup() {
  psql "$postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  psql "$postgres" -qc "DROP DATABASE IF EXISTS ${database}_mapped WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# BIN=path/to/customer-lookup measures another build.
if [ -z "${BIN:-}" ]; then cargo build --release --quiet; fi
bin=${BIN:-target/release/customer-lookup}

# Customers C0000000…, one E.164 number each and a second one for every tenth, as a CRM export.
python3 - "$rows" > "$work/customers.csv" <<'PY'
import sys
rows = int(sys.argv[1])
out = sys.stdout
out.write("customer_id,name,loyalty_points,is_vip,phone_numbers\n")
for i in range(rows):
    numbers = f"+1555{i:07d}" if i % 10 else f"+1555{i:07d};+1666{i:07d}"
    out.write(f"C{i:07d},Customer {i},{i % 10000},{'true' if i % 7 == 0 else 'false'},{numbers}\n")
PY
# The same customers as a CRM contact export, where every hundredth row (ids ending in 50) is bad.
python3 - "$rows" > "$work/contacts.csv" <<'PY'
import sys
rows = int(sys.argv[1])
out = sys.stdout
out.write("Id,FirstName,LastName,Phone,MobilePhone,MailingCountry,Loyalty_Points__c,Tier\n")
for i in range(rows):
    mobile = "" if i % 10 else f"+1666{i:07d}"
    tier = "Gold" if i % 7 == 0 else "Silver"
    phone, points, first, last = f"+1555{i:07d}", str(i % 10000), "Customer", str(i)
    if i % 300 == 50:
        phone = "+1 555 01"
    elif i % 300 == 150:
        points = "lots"
    elif i % 300 == 250:
        # (A number on two rows is shared, no bad row.)
        first, last = "", ""
    out.write(f"C{i:07d},{first},{last},{phone},{mobile},United States,{points},{tier}\n")
PY
bad=$(( (rows + 49) / 100 ))
mapping=(--map customer_id=Id --map name=FirstName+LastName --map phone_numbers=Phone,MobilePhone
  --map region=MailingCountry --map loyalty_points=Loyalty_Points__c --map is_vip=Tier
  --vip-values Gold,Platinum)
size=$(du -h "$work/customers.csv" | cut -f1)
psql "$postgres" -qc "CREATE DATABASE $database" >/dev/null
psql "$postgres" -qc "CREATE DATABASE ${database}_mapped" >/dev/null
pg_url="${postgres%/*}/$database"

printf '%-9s %-10s %9s %10s %12s %10s\n' backend step rows seconds rows/s peak_MB
run() { # backend step command...
  local backend=$1 step=$2; shift 2
  DATABASE_URL="$url" /usr/bin/time -f '%M %e' -o "$work/time" "$bin" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err"; exit 1; }
  read -r rss_kb seconds < "$work/time"
  printf '%-9s %-10s %9d %10.2f %12.0f %10.1f\n' "$backend" "$step" "$rows" "$seconds" \
    "$(echo "$rows / $seconds" | bc -l)" "$(echo "$rss_kb / 1024" | bc -l)"
  last_seconds=$seconds
}
ratios=()
backends=${BACKENDS:-sqlite postgres}
for backend in $backends; do
  if [ "$backend" = sqlite ]; then url="sqlite://$work/customers.db"; else url=$pg_url; fi
  run "$backend" insert import "$work/customers.csv"
  native=$last_seconds
  run "$backend" unchanged import "$work/customers.csv"
  run "$backend" export export "$work/export-$backend.csv"
  if [ "$backend" = sqlite ]; then url="sqlite://$work/contacts.db"; else url="${pg_url}_mapped"; fi
  run "$backend" skip import "$work/contacts.csv" "${mapping[@]}" \
    --on-invalid skip --rejects "$work/rejects-$backend.csv"
  ratios+=("$backend mapped+skip/native rate: $(printf '%.2f' "$(echo "$native / $last_seconds" | bc -l)")")
  run "$backend" export export "$work/export-$backend-mapped.csv"
  cmp -s <(grep -v '^C.....50,' "$work/export-$backend.csv") "$work/export-$backend-mapped.csv" \
    || { echo "$backend: the mapped import did not store exactly the good customers"; exit 1; }
  set_aside=$(tail -n +2 "$work/rejects-$backend.csv" | grep -c '^C.....50,' || true)
  [ "$set_aside" = "$bad" ] && [ "$(tail -n +2 "$work/rejects-$backend.csv" | wc -l)" = "$bad" ] \
    || { echo "$backend: expected $bad rows in the reject file, found $set_aside"; exit 1; }
done
printf '%s\n' "${ratios[@]}"
if [ "$backends" = "sqlite postgres" ]; then
  cmp -s <(tail -n +2 "$work/export-sqlite.csv" | sort) <(tail -n +2 "$work/export-postgres.csv" | sort) \
    && echo "both exports hold the same $rows customers (file: $size)"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%d)"
