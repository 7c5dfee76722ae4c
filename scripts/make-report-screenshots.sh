#!/usr/bin/env bash
# Renders five example reports (GANomaly, deep clustering, a DPLAN bench, the MVTec protocol, a
# scored folder) and screenshots them
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

# 4. The MVTec protocol on the synthetic MVTec-layout fixture (docs/mvtec.md), 3 seeds, and
# 5. the scored-folder page of a GANomaly fitted on its fabric/train/good, scoring fabric/test.
rm -rf "$OUT/mvtec-data" "$OUT/folder"
ODDITY_MVTEC_FIXTURE="$(realpath -m "$OUT/mvtec-data")" cargo test --test cli -- --ignored mvtec_fixture
GM="--set ngf=8 --set ndf=8 --set nz=16 --set batch_size=8 --set epochs=20 --set bn_at_score=running"
$B eval --model ganomaly --protocol mvtec --data "$OUT/mvtec-data" $GM --seed 0 --seed 1 --seed 2 --report "$OUT/mvtec"
$B fit --model ganomaly --data "$OUT/mvtec-data/fabric/train/good" --no-labels --out "$OUT/gm-fabric" $GM
$B score --model-dir "$OUT/gm-fabric" --data "$OUT/mvtec-data/fabric/test" --out "$OUT/fabric-scores.csv" --report "$OUT/folder"

for r in ganomaly deep-cluster dplan-bench mvtec; do
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,3200 \
    --screenshot="docs/reports/$r.png" "file://$(realpath "$OUT/$r/report.html")" 2>/dev/null
done
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,2600 \
  --screenshot="docs/reports/folder.png" "file://$(realpath "$OUT/folder/report.html")" 2>/dev/null
ls -la docs/reports
