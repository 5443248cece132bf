#!/usr/bin/env bash
# Unpacks a release tarball and checks what it holds: the binary runs and says
# its version, the files .promu.yml lists are there, and every file the
# README and the docs link to (a relative link) is in it.
set -euo pipefail
tarball=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xzf "$tarball"
"$tmp/$dir/confluent_keys_exporter" --version 2>&1 | grep -q "confluent_keys_exporter, version $(cat VERSION)"
for f in LICENSE NOTICE README.md CHANGELOG.md dashboards/confluent-keys.json alerts/confluent-keys.rules.yml; do
  [ -e "$tmp/$dir/$f" ] || { echo "tarball lacks $f" >&2; exit 1; }
done
cd "$tmp/$dir"
for doc in README.md docs/*.md; do
  { grep -o '](\([^)]*\))' "$doc" || true; } | sed 's/^](\(.*\))$/\1/' | { grep -Ev '^(https?:|mailto:|#)' || true; } | sed 's/#.*//' |
    while read -r target; do
      [ -e "$(dirname "$doc")/$target" ] || { echo "tarball: $doc links to $target, which the tarball lacks" >&2; exit 1; }
    done
done
cd - >/dev/null
echo "tarball-test: $tarball unpacks and runs; every file its README and docs link to is in it"
