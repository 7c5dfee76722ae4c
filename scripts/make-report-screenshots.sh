#!/usr/bin/env bash
# Renders three example reports (GANomaly, deep clustering, a DPLAN bench) and screenshots them
# with headless Chromium (Debian package `chromium`) into docs/reports/.
#   scripts/make-report-screenshots.sh [OUT_DIR]     (data: $ODDITY_DATA, default ../shared/data)
# Wall time on 2 cores: about 25 minutes (most of it pretraining the COIL-20 autoencoder, which
# is reused from OUT_DIR/ae-coil32 on later runs).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${ODDITY_DATA:-../shared/data}
OUT=${1:-target/report-examples}
B=./target/release/oddity
mkdir -p "$OUT" docs/reports
cargo build --release

# 1. GANomaly, paper defaults (15 epochs), leave-one-class-out on the shipped MNIST subset, digit 2 anomalous.
$B eval --model ganomaly --data data/mnist-small --anomaly-class 2 --report "$OUT/ganomaly"

# 2. Deep clustering (DCEC conv autoencoder) on the full COIL-20 at 32x32.
$B eval --model deep-cluster --data "$DATA/coil-20-proc" --resize 32x32 --task cluster --k 20 \
  --set pretrain_epochs=200 --set maxiter=1000 --set pretrained="$OUT/ae-coil32" \
  --plots "$OUT/deep-cluster/tsne" --report "$OUT/deep-cluster"

# 3. The weakly supervised benchmark on three DPLAN datasets, 3 seeds, then its report.
rm -rf "$OUT/dplan-bench"
$B bench weakly-supervised --out "$OUT/dplan-bench" --seeds 3 \
  --data "$DATA/adrepository/numerical/annthyroid_21feat_normalised.csv" \
  --data "$DATA/adbench/Classical/6_cardio.npz" --data "$DATA/adbench/Classical/38_thyroid.npz"
$B report --results "$OUT/dplan-bench/results.jsonl" --out "$OUT/dplan-bench"

for r in ganomaly deep-cluster dplan-bench; do
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,3200 \
    --screenshot="docs/reports/$r.png" "file://$(realpath "$OUT/$r/report.html")" 2>/dev/null
done
ls -la docs/reports
