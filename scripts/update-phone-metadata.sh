#!/usr/bin/env bash
# Moves the number parser (crates/phonenumber) to the metadata of a release of `phonenumbers`,
# libphonenumber's Python port, and regenerates the recognition vectors from that same release.
# The version is written in crates/phonenumber/METADATA_VERSION; everything else reads it, apart
# from the crate's Cargo.toml version (build metadata after `+`, rewritten here, checked by the
# crate's tests). Running it with the current version changes nothing.
# Usage: scripts/update-phone-metadata.sh VERSION      (e.g. 9.0.44)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 1 || ! $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: $0 VERSION   (a phonenumbers release, such as 9.0.44)" >&2
  exit 2
fi
version=$1
crate=crates/phonenumber

printf '%s\n' "$version" > "$crate/METADATA_VERSION"
scripts/python-tools.sh phonenumbers
PY=.tools/venv/bin/python

"$PY" scripts/phone-metadata-xml.py "$crate/assets/PhoneNumberMetadata.xml"
"$PY" scripts/gen-phone-vectors.py --quiet

# The crate's version carries the metadata release as build metadata: 0.3.10+<version>.
sed -i -E "s/^(version = \"[0-9]+\.[0-9]+\.[0-9]+)(\+[^\"]*)?\"/\1+$version\"/" "$crate/Cargo.toml"
# The lock files record that version; only the workspace's own packages are updated.
cargo update --workspace --quiet
(cd fuzz && cargo update --workspace --quiet)

echo "metadata and vectors at phonenumbers $version; now run: cargo test"
