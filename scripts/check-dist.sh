#!/usr/bin/env bash
# Fails when the committed dist/ differs from what `npm run synth` renders now.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
npm run -s synth -- --out-dir "$fresh/dist" >/dev/null
if ! diff -r dist "$fresh/dist"; then
  echo "dist/ is stale: run 'npm run synth' and commit dist/." >&2
  exit 1
fi
echo "dist/ matches a fresh synth."
