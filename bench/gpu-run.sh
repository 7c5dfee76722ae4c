#!/usr/bin/env bash
# One prepared run on a machine with an NVIDIA GPU (issue 20, item 4), for a lease of ~10 minutes:
#   1. which devices the build sees (`oddity info --devices`) and the GPU (nvidia-smi);
#   2. `oddity bench speed` on the GPU, next to PyTorch on CUDA (bench/speed_reference.py, same passes,
#      synchronised steps);
#   3. GPU vs CPU on the shipped digits: GANomaly fitted on the GPU and on the CPU from one seed,
#      each scored on both devices (model files cross devices), AUCs and score differences;
#   4. GANomaly's honest protocol on full MNIST, 15 epochs, seed 0, classes 0..9 in turn until the
#      time given runs out (one JSON-lines record per finished class; one class took ~11 min of training
#      through Vulkan on an H200, more than a 15-minute lease holds beside the rest).
#
#   bench/gpu-run.sh BINARY MNIST_DIR OUT_DIR SECONDS [DEVICE]
#
# BINARY is a release CLI built with a GPU feature, e.g.
#   cargo build --release -p oddity-cli --features oddity/vulkan --target-dir target/gpu
# (the CUDA feature needs network at build time: README, GPU). DEVICE defaults to `vulkan`
# (burn's wgpu pinned to Vulkan with its SPIR-V compiler); `wgpu` is the fallback when it fails.
# The PyTorch side runs in the machine's own python3 (ODDITY_BENCH_PYTHON=current). What came of the
# first lease (2026-12-04): docs/bench/gpu/h200-vulkan-2026-12-04.txt. On the device tool, with the binary
# xz-compressed and the Vulkan loader's .deb files carried (DEVELOPERS: device README):
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; xz -dc .gpu/oddity.xz > /tmp/oddity; chmod +x /tmp/oddity
#   bash bench/gpu-run.sh /tmp/oddity .gpu/mnist /tmp/r 470; tar czf $OUT/results.tgz -C /tmp/r .
set -uo pipefail
bin=$1 mnist=$2 out=$3 budget=$4 dev=${5:-vulkan}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp} PYTHONUNBUFFERED=1 ODDITY_BENCH_PYTHON=current
mkdir -p "$out"
left() { echo $((budget - SECONDS)); }
stage() { echo "== $1 (at ${SECONDS} s)"; }

stage "devices"
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$out/gpu.txt"
grep -m1 "model name" /proc/cpuinfo | tee -a "$out/gpu.txt"
"$bin" info --devices 2>&1 | tee -a "$out/gpu.txt"
if ! "$bin" bench speed --device "$dev" --no-torch --only gemm --steps 2 --warmup 1 >/dev/null 2>&1; then
  echo "device $dev failed; falling back to wgpu" | tee -a "$out/gpu.txt"
  dev=wgpu
fi

stage "bench speed: oddity on $dev (one process per workload), PyTorch on cuda"
# Each oddity process autotunes and compiles its kernels first (20-75 s per workload on an H200, 2026-12-04),
# so the workloads run one per process with few steps, each printed as soon as it is done.
python3 bench/speed_reference.py --device cuda --steps 20 --warmup 5 2>&1 | tee "$out/speed-torch.jsonl"
for w in ganomaly-train ganomaly-score dcec-pretrain gemm; do
  [ "$(left)" -gt 60 ] || break
  timeout 90 "$bin" bench speed --device "$dev" --only $w --steps 5 --warmup 2 2>&1 | grep -v "^measured\|^CPU\|of peak" | tee -a "$out/speed.txt"
done
ips=$(awk '/^ganomaly train step/ {print $6}' "$out/speed.txt")
echo "GANomaly training at ${ips:-?} img/s: one class of the protocol (15 epochs of ~48,600 digits) ~ $(python3 -c "print(round(15 * 48600 / float('${ips:-0}' or 'nan')))" 2>/dev/null) s of training"

stage "GPU vs CPU on data/mnist-small ($dev)"
small=(--data data/mnist-small --anomaly-class 0 --set epochs=2 --seed 0)
for d in cpu "$dev"; do
  timeout 90 "$bin" eval --model ganomaly "${small[@]}" --device "$d" --json > "$out/small-eval-$d.json" 2> "$out/small-eval-$d.err"
  echo "eval on $d: rc $? $(head -c 400 "$out/small-eval-$d.json")"
  rm -rf "/tmp/m-$d"
  timeout 90 "$bin" fit --model ganomaly --data data/mnist-small --set epochs=2 --seed 0 --device "$d" --out "/tmp/m-$d" > /dev/null 2>&1
  for s in cpu "$dev"; do
    timeout 60 "$bin" score --model-dir "/tmp/m-$d" --data data/mnist-small --device "$s" --out "$out/small-fit-$d-score-$s.csv" > /dev/null 2>&1
    echo "fit on $d, scored on $s: rc $?"
  done
done
python3 - "$out" "$dev" <<'EOF' | tee "$out/small-compare.txt"
import csv, sys, itertools
out, dev = sys.argv[1], sys.argv[2]
def col(p):
    rows = list(csv.reader(open(p)))
    i = rows[0].index("score")
    return [float(r[i]) for r in rows[1:]]
runs = {(f, s): col(f"{out}/small-fit-{f}-score-{s}.csv") for f in ("cpu", dev) for s in ("cpu", dev)}
for a, b in itertools.combinations(runs, 2):
    x, y = runs[a], runs[b]
    d = max(abs(p - q) / max(abs(p), abs(q), 1e-12) for p, q in zip(x, y))
    print(f"fit/score {a} vs {b}: {len(x)} scores, max relative difference {d:.3g}")
EOF

stage "GANomaly honest protocol, full MNIST, 15 epochs, seed 0, device $dev"
for k in 0 1 2 3 4 5 6 7 8 9; do
  [ "$(left)" -gt 30 ] || break
  t0=$SECONDS
  timeout $(( $(left) - 10 )) "$bin" eval --model ganomaly --data "$mnist" --anomaly-class $k --protocol honest \
    --set epochs=15 --seed 0 --device "$dev" --results "$out/ganomaly-mnist-honest.jsonl" --json \
    > "$out/class-$k.json" 2> "$out/class-$k.err"
  echo "class $k: rc $? in $((SECONDS - t0)) s: $(head -c 300 "$out/class-$k.json")"
done
stage "done"
