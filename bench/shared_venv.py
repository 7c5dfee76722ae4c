"""The virtualenv the bench scripts share (bench/.venv): created on first use, missing packages installed
with pip, then the calling script re-run inside it. Python is never a dependency of oddity itself."""
import os
import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv"


def ensure(imports, packages):
    """Re-runs the current script in bench/.venv unless already there; first installs `packages`
    (pip names) when `import <imports>` fails in it, e.g. ensure("torch, numpy", ["numpy", "torch"]).
    ODDITY_BENCH_PYTHON=current keeps the calling interpreter (it must have the packages already)."""
    if Path(sys.prefix).resolve() == VENV.resolve() or os.environ.get("ODDITY_BENCH_PYTHON") == "current":
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    if subprocess.run([str(py), "-c", f"import {imports}"], capture_output=True).returncode != 0:
        # pip's progress goes to stderr so a script's stdout stays machine-readable.
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", *packages], stdout=sys.stderr)
    os.execv(str(py), [str(py), *sys.argv])
