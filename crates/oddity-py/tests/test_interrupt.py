"""Stopping a fit: an exception from the progress callback and a real Ctrl-C (SIGINT) both end
the fit at its next progress step and surface in Python."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import oddity


def test_exception_in_progress_callback_cancels_the_fit(cardio):
    X, _, y = cardio
    seen = []

    def callback(event, *args):
        seen.append(event)
        if event == "advance":
            raise RuntimeError("stop here")

    settings = json.dumps({"epochs": 100000, "batches_per_epoch": 5, "batch_size": 128})
    t = time.monotonic()
    with pytest.raises(RuntimeError, match="stop here"):
        oddity._native.Model.fit("devnet", settings, X, y.astype(np.uint8), 0, callback)
    assert time.monotonic() - t < 10, "the fit was not cancelled"
    assert seen[0] == "start"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_interrupts_a_long_fit():
    code = """
import numpy as np, oddity, sys
X = np.load(sys.argv[1])["X"]; y = np.zeros(len(X), int); y[:20] = 1
print("fitting", flush=True)
oddity.DevNet(epochs=100000, batches_per_epoch=5, batch_size=128).fit(X, y)
print("finished", flush=True)
"""
    data = Path(__file__).resolve().parents[3] / "data" / "adbench" / "6_cardio.npz"
    # A process started in the background by a non-interactive shell (as CI runners and `cmd &` do)
    # inherits SIGINT as *ignored*, and Python then installs no KeyboardInterrupt handler: give the
    # child the default disposition, as a terminal's foreground process has.
    p = subprocess.Popen(
        [sys.executable, "-c", code, str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert p.stdout.readline().strip() == "fitting"
    time.sleep(1.0)
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert time.monotonic() - t < 5, "Ctrl-C took too long"
    assert "KeyboardInterrupt" in err and "finished" not in out
    assert p.returncode != 0


_PHASE_CHILD = """
import json, sys, time
import numpy as np, oddity
kind, settings, phase = sys.argv[2], sys.argv[3], sys.argv[4]
X = np.load(sys.argv[1])["X"].astype(np.float32); y = np.zeros(len(X), np.uint8); y[:20] = 1
def progress(event, *args):
    if event == "start":
        print("phase", args[0], flush=True)
try:
    oddity._native.Model.fit(kind, settings, X, y, 0, progress)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@pytest.mark.parametrize(
    "kind, settings, phase",
    [
        ("deep-sad", {"ae_epochs": 100000, "epochs": 1}, "pretraining"),
        (
            "deep-cluster",
            {"arch": "mlp", "pretrain_epochs": 1, "n_init": 3000, "kmeans_max_iter": 300, "n_clusters": 20},
            "k-means init",
        ),
    ],
    ids=["deep-sad-pretraining", "deep-cluster-kmeans"],
)
def test_ctrl_c_takes_effect_within_half_a_second(kind, settings, phase):
    """Each long loop reports progress often enough that Ctrl-C lands within 0.5 s, and the
    phase is shown by name."""
    data = Path(__file__).resolve().parents[3] / "data" / "adbench" / "6_cardio.npz"
    p = subprocess.Popen(
        [sys.executable, "-c", _PHASE_CHILD, str(data), kind, json.dumps(settings), phase],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = []
    for line in p.stdout:
        seen.append(line.strip())
        if line.startswith("phase") and phase in line:
            break
    else:
        pytest.fail(f"phase {phase!r} never started: {seen} {p.stderr.read()}")
    time.sleep(0.5)
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    last = out.strip().splitlines()[-1]
    assert last.startswith("interrupted"), f"{out}\n{err}"
    assert float(last.split()[1]) - sent < 0.5, f"Ctrl-C took {float(last.split()[1]) - sent:.2f}s in {phase}"
