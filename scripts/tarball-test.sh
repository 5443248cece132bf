#!/usr/bin/env bash
# Unpacks a release tarball and checks what it holds: the binary runs and says
# its version, and the files .promu.yml lists are there.
set -euo pipefail
tarball=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$tarball"
"$tmp/$dir/confluent_keys_exporter" --version 2>&1 | grep -q "confluent_keys_exporter, version $(cat VERSION)"
for f in LICENSE NOTICE README.md CHANGELOG.md dashboards/confluent-keys.json alerts/confluent-keys.rules.yml; do
  [ -e "$tmp/$dir/$f" ] || { echo "tarball lacks $f" >&2; exit 1; }
done
echo "tarball-test: $tarball unpacks and runs"
