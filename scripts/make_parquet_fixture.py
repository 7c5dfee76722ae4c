#!/usr/bin/env python3
"""Builds data/parquet/cardio.parquet (snappy) from the real ODDS/ADBench cardio set.

Run from anywhere: `python3 scripts/make_parquet_fixture.py [path/to/6_cardio.npz]`.
On first use it creates scripts/.venv (gitignored), installs pyarrow + numpy there and re-runs
itself inside it. pyarrow is what users' Parquet files usually come from, so the Rust loader is
tested against its output.

Columns (1,831 rows): the 21 UCI cardiotocography features under their UCI names; 20 as float64,
`Tendency` as int8 (-1/0/1, recovered from the standardised column by rank), then `label`, a
string column with "normal"/"anomaly" (ADBench y: 1 = anomaly).
"""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
ROOT = HERE.parent
DEFAULT_SRC = Path("/work/shared/data/adbench/Classical/6_cardio.npz")
OUT = ROOT / "data" / "parquet" / "cardio.parquet"

NAMES = ["LB", "AC", "FM", "UC", "DL", "DS", "DP", "ASTV", "MSTV", "ALTV", "MLTV", "Width", "Min", "Max",
         "Nmax", "Nzeros", "Mode", "Mean", "Median", "Variance", "Tendency"]


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def bootstrap() -> None:
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "pyarrow", "numpy"], check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def main() -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SRC
    with np.load(src, allow_pickle=False) as d:
        x, y = d["X"], d["y"]
    assert x.shape == (1831, 21) and int(y.sum()) == 176, (x.shape, y.sum())
    # The standardised Tendency column has exactly three values: map them back to -1, 0, 1.
    levels, codes = np.unique(x[:, 20], return_inverse=True)
    assert len(levels) == 3
    cols = {name: pa.array(x[:, j], type=pa.float64()) for j, name in enumerate(NAMES[:20])}
    cols["Tendency"] = pa.array(codes.astype(np.int8) - 1, type=pa.int8())
    cols["label"] = pa.array(np.where(y == 1, "anomaly", "normal"), type=pa.string())
    table = pa.table(cols)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # Several row groups so the reader's batching across groups is exercised.
    pq.write_table(table, OUT, compression="snappy", row_group_size=500)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {table.num_rows} rows, {table.num_columns} columns)")


if __name__ == "__main__":
    if in_venv():
        main()
    else:
        bootstrap()
