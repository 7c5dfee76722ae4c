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
