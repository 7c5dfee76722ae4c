#!/usr/bin/env bash
# Where a GPU training step goes, and how many trainings one GPU runs at once (issue 20), for a lease of
# ~8 minutes:
#   1. one GANomaly training step under cubecl's kernel profiler: the kernels of one step (found as the
#      period of the log's tail), their count and summed device time, next to the step's wall time;
#   2. N = 1 and 4 `bench speed --only ganomaly-train` processes at once (NS="1 4 8" for others): each
#      one's images/s and their sum (what running the leave-one-class-out classes side by side would give).
#      Each process autotunes for 20-75 s before its timed steps, so the timed windows overlap only when
#      they are long: 1,200 steps (STEPS) overlapped 105 of 116 s at N = 4; 300 steps did not overlap;
#   3. the flex CPU backend on the machine's own cores, for comparison.
#
#   bench/gpu-profile.sh BINARY OUT_DIR [DEVICE]      (SKIP_PROFILE=1, SKIP_CPU=1 leave out 1 and 3)
#
# On the device tool (the first run, 2026-12-04: docs/bench/gpu/h200-vulkan-profile-2026-12-04.txt):
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; xz -dc .gpu/oddity.xz > /tmp/oddity; chmod +x /tmp/oddity
#   bash bench/gpu-profile.sh /tmp/oddity $OUT/r vulkan 2>&1 | tee $OUT/log.txt
# BINARY is a release CLI built with a GPU feature (bench/gpu-run.sh says how). DEVICE defaults to `vulkan`.
# The profiler is cubecl's (`[profiling.logger] level = "basic"` in a cubecl.toml in the working directory):
# it times every kernel on its own, so a profiled step is slower than a plain one; the plain wall time is
# step 2's N = 1 figure.
set -uo pipefail
bin=$(realpath "$1") out=$(realpath -m "$2") dev=${3:-vulkan}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp} PYTHONUNBUFFERED=1
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
mkdir -p "$out"
stage() { echo "== $1 (at ${SECONDS} s)"; }

stage "device"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
grep -m1 "model name" /proc/cpuinfo | tee -a "$out/gpu.txt"; nproc | tee -a "$out/gpu.txt"

if [ -z "${SKIP_PROFILE:-}" ]; then
stage "1. profiled training step ($dev)"
prof=$(mktemp -d)
cat > "$prof/cubecl.toml" <<EOF
[profiling.logger]
level = "basic"
file = "$prof/kernels.log"
EOF
(cd "$prof" && timeout 150 "$bin" bench speed --device "$dev" --only ganomaly-train --steps 12 --warmup 3 --json) \
  > "$out/profiled-step.json" 2> "$out/profiled-step.err"
echo "rc $?: $(grep ganomaly "$out/profiled-step.json")"
python3 - "$prof/kernels.log" <<'EOF' | tee "$out/profile.txt"
import re, sys, collections
rows = []
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\|\s*([0-9.]+)(ns|µs|us|ms|s)\s*\|\s*(.*)$", line)
    if m:
        scale = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
        rows.append((m.group(3).strip(), float(m.group(1)) * scale))
names = [n for n, _ in rows]
# the timed steps repeat one sequence of kernels (names with their hashes): the shortest tail that
# repeats eight times is one step
period = next((p for p in range(10, len(names) // 8 + 1)
               if all(names[-p:] == names[len(names) - (k + 1) * p:len(names) - k * p] for k in range(1, 8))),
              None)
print(f"{len(rows)} timed kernel launches in the log")
if period is None:
    sys.exit("no repeating step found in the log's tail")
step = rows[-period:]
total = sum(t for _, t in step)
print(f"one training step: {period} kernel launches, {total:.2f} ms of kernel time "
      f"({1000 * total / period:.1f} µs per kernel on average)")
by = collections.defaultdict(lambda: [0, 0.0])
for n, t in step:
    n = re.sub(r"_[0-9a-f]{8}$", "", n)
    by[n][0] += 1
    by[n][1] += t
print(f"{'kernel':<60} {'launches':>8} {'ms':>8} {'share':>6}")
for n, (c, t) in sorted(by.items(), key=lambda kv: -kv[1][1])[:25]:
    print(f"{n[:60]:<60} {c:>8} {t:>8.3f} {100 * t / total:>5.1f}%")
EOF

fi
steps=${STEPS:-1200}
stage "2. concurrent trainings ($dev, $steps steps each)"
for n in ${NS:-1 4}; do
  t0=$SECONDS
  for i in $(seq 1 $n); do
    ( timeout $((steps / 2 + 150)) "$bin" bench speed --device "$dev" --only ganomaly-train --steps $steps --warmup 3 --json \
        > "$out/concurrent-$n-$i.json" 2> /dev/null; date +%s.%N > "$out/concurrent-$n-$i.end" ) &
  done
  wait
  python3 - "$out" "$n" $((SECONDS - t0)) $steps <<'EOF' | tee -a "$out/concurrent.txt"
import json, sys
out, n, wall, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
ips, spans = [], []
for i in range(1, n + 1):
    try:
        rec = [json.loads(l) for l in open(f"{out}/concurrent-{n}-{i}.json") if '"ganomaly' in l][0]
        end = float(open(f"{out}/concurrent-{n}-{i}.end").read())
    except Exception as e:
        print(f"N={n} process {i}: no result ({e})"); continue
    ips.append(rec["images_per_second"])
    spans.append((end - steps * 64 / rec["images_per_second"], end))
if ips:
    overlap = min(e for _, e in spans) - max(s for s, _ in spans)
    print(f"N={n}: {len(ips)} finished in {wall} s; img/s each " + ", ".join(f"{x:.0f}" for x in ips)
          + f"; sum {sum(ips):.0f}; timed windows overlap {overlap:.1f} s of ~{spans[0][1] - spans[0][0]:.1f}")
EOF
done

[ -n "${SKIP_CPU:-}" ] || {
stage "3. flex CPU backend on this machine's cores"
timeout 90 "$bin" bench speed --no-torch --only ganomaly-train --steps 8 --warmup 2 2>&1 | tee "$out/cpu.txt"
}
stage "done"
