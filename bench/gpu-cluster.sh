#!/usr/bin/env bash
# COIL-20 deep clustering at a given input size on a GPU, seeds side by side (issue 22: "try 128×128"; at
# 128×128 one seed of the full protocol — 200 pretraining epochs, 1,000 fine-tuning iterations — takes ~2 h
# on the 2-core development machine, so it runs here). Seeds start two at a time; the next starts only when a
# finished one shows it can end before the time given runs out. One JSON-lines record per finished seed.
#
#   bench/gpu-cluster.sh BINARY COIL20_DIR OUT_DIR SECONDS [SIZE] [DEVICE] [SEEDS...]
#
# SIZE defaults to 128x128, DEVICE to vulkan, SEEDS to 0 1 2; PRETRAIN / MAXITER shorten the protocol for a
# try-out. Progress bars are drawn through `script` (a pseudo-terminal) into OUT_DIR/seed-S.log, so an unfinished
# seed still shows how far it got. On the device tool (binary and Vulkan loader carried as for bench/gpu-run.sh,
# the PNGs copied to an ignored `.coil/coil-20-proc`):
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; xz -dc .gpu/oddity.xz > /tmp/oddity; chmod +x /tmp/oddity
#   bash bench/gpu-cluster.sh /tmp/oddity .coil/coil-20-proc $OUT/r 540
set -uo pipefail
bin=$1 data=$2 out=$3 budget=$4 size=${5:-128x128} dev=${6:-vulkan}
shift $(( $# < 6 ? $# : 6 ))
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(0 1 2)
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
grep -m1 "model name" /proc/cpuinfo | tee -a "$out/gpu.txt"

run_seed() { # seed
  local s=$1 t0=$SECONDS
  local cmd=("$bin" eval --model deep-cluster --data "$data" --resize "$size" --task cluster --k 20
    --set pretrain_epochs=${PRETRAIN:-200} --set maxiter=${MAXITER:-1000} --seed "$s" --tsne-samples 0 --device "$dev"
    --results "$out/coil20-$size-seed$s.jsonl")
  echo "seed $s: start at ${t0} s: ${cmd[*]}"
  if command -v script > /dev/null; then
    timeout $((budget - SECONDS - 5)) script -qec "${cmd[*]}" "$out/seed-$s.log" > /dev/null 2>&1
  else
    timeout $((budget - SECONDS - 5)) "${cmd[@]}" > "$out/seed-$s.log" 2>&1
  fi
  local rc=$?
  echo "seed $s: rc $rc after $((SECONDS - t0)) s; last progress: $(tr '\r' '\n' < "$out/seed-$s.log" | grep -a 'deep-cluster [a-z]' | tail -1 | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/  */ /g' | cut -c1-160)"
  echo "$((SECONDS - t0))" > "$out/seed-$s.seconds"
}

next=0
for _ in 1 2; do
  [ $next -lt ${#seeds[@]} ] || break
  run_seed "${seeds[$next]}" &
  next=$((next + 1))
done
while [ $next -lt ${#seeds[@]} ]; do
  wait -n
  took=$(cat "$out"/seed-*.seconds 2>/dev/null | sort -n | head -1)
  if [ -n "$took" ] && [ $((budget - SECONDS)) -gt $((took * 11 / 10)) ]; then
    run_seed "${seeds[$next]}" &
  else
    echo "seed ${seeds[$next]}: not started (${took:-?} s per seed, $((budget - SECONDS)) s left)"
  fi
  next=$((next + 1))
done
wait
cat "$out"/coil20-*.jsonl 2>/dev/null | grep -E '"metric":"(acc|nmi)"'
