#!/usr/bin/env bash
# precision = bf16 against f32 on the docs/bench/ganomaly.md side-by-side budget (issue 16, item 4):
# MNIST anomaly classes 0-2, seeds 0-1, 2,000 training normals, 5 epochs, 2 % validation,
# running batch-norm statistics; each (class, seed) in f32 then bf16, one JSON line per run.
#   bench/ganomaly-bf16-check.sh ../shared/data/mnist OUT.jsonl   (ODDITY=path/to/oddity picks a binary,
#   SEEDS="2 3" other seeds)
set -euo pipefail
data=${1:?usage: $0 MNIST_DIR OUT.jsonl}
out=${2:?usage: $0 MNIST_DIR OUT.jsonl}
exe=${ODDITY:-target/release/oddity}
[ -e "$out" ] && { echo "$out exists; not overwriting" >&2; exit 2; }
for seed in ${SEEDS:-0 1}; do
  for class in 0 1 2; do
    for precision in f32 bf16; do
      start=$(date +%s.%N)
      lines=$("$exe" eval --model ganomaly --data "$data" --anomaly-class "$class" --seed "$seed" \
        --protocol honest --max-train 2000 --val-fraction 0.02 --set epochs=5 --set bn_at_score=running \
        --set precision="$precision" --json)
      wall=$(echo "$(date +%s.%N) - $start" | bc)
      python3 - "$class" "$seed" "$precision" "$wall" "$lines" >> "$out" <<'PY'
import json, sys
cls, seed, precision, wall, lines = sys.argv[1:]
recs = {r["metric"]: r for r in map(json.loads, lines.splitlines())}
print(json.dumps({"class": int(cls), "seed": int(seed), "precision": precision,
                  "roc_auc": recs["roc_auc"]["value"], "average_precision": recs["average_precision"]["value"],
                  "seconds": recs["roc_auc"].get("seconds"), "wall_seconds": float(wall)}))
PY
      tail -1 "$out"
    done
  done
done
