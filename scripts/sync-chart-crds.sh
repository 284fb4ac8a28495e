#!/usr/bin/env bash
# Copies crds/*.yaml into the Helm chart (helm/market-pipeline/files/crds/), which templates
# the CRD from there: a chart cannot read files outside its folder. Run by `npm run gen:crd`;
# test/packaging/chart.test.ts fails when the copies differ.
set -euo pipefail
cd "$(dirname "$0")/.."
target=helm/market-pipeline/files/crds
rm -f "$target"/*.yaml
files=(crds/*.yaml)
cp "${files[@]}" "$target"/
echo "copied ${#files[@]} CRD file(s) to $target"
