#!/usr/bin/env bash
# Copies the small real ADRepository files the tabular loader tests use into data/adrepository/
# and builds data/adrepository/cmc-nominal.tar.xz (an xz tar holding one ARFF, as ADRepository
# ships its large sets). Usage: scripts/make_tabular_test_data.sh [ADREPOSITORY_DIR]
set -euo pipefail
src="${1:-/work/shared/data/adrepository}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/data/adrepository"
mkdir -p "$out"
cp "$src/numerical/annthyroid_21feat_normalised.csv" "$out/"
cp "$src/categorical/cmc-nominal.arff" "$src/categorical/solar-flare_FvsAll-cleaned.arff" "$out/"
chmod 644 "$out"/*.csv "$out"/*.arff
# Reproducible archive: fixed owner, mode and mtime.
tar --format=ustar --owner=0 --group=0 --numeric-owner --mode=644 --mtime=@0 \
    -C "$out" -cf - cmc-nominal.arff | xz -9 -c > "$out/cmc-nominal.tar.xz"
( cd "$out" && sha256sum annthyroid_21feat_normalised.csv cmc-nominal.arff solar-flare_FvsAll-cleaned.arff cmc-nominal.tar.xz )
