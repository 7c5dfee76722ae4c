#!/usr/bin/env python3
"""Builds the small binary-format test fixtures under data/ from the real files in /work/shared/data.

Standard library only. Deterministic: re-running it reproduces the same bytes.

- data/mnist-small/: first 1,000 training and first 500 test images + labels of MNIST, IDX format,
  header counts rewritten, gzip-compressed (mtime 0, no file name in the gzip header).
- data/adbench/, data/odds/, data/coil20-small/: real files copied unchanged.

Usage: python3 scripts/make_test_data.py [SHARED_DATA_DIR]   (default /work/shared/data)
"""

import gzip
import shutil
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def subset_idx(src: Path, dst: Path, keep: int) -> None:
    """Writes the first `keep` items of an IDX file (images or labels), gzip-compressed."""
    raw = gzip.decompress(src.read_bytes())
    magic, count = struct.unpack(">II", raw[:8])
    assert keep <= count, (src, keep, count)
    if magic == IMAGES_MAGIC:
        rows, cols = struct.unpack(">II", raw[8:16])
        header = struct.pack(">IIII", magic, keep, rows, cols)
        payload = raw[16 : 16 + keep * rows * cols]
    elif magic == LABELS_MAGIC:
        header = struct.pack(">II", magic, keep)
        payload = raw[8 : 8 + keep]
    else:
        raise SystemExit(f"{src}: unexpected magic {magic}")
    dst.write_bytes(gzip.compress(header + payload, compresslevel=9, mtime=0))


def copy(src_dir: str, names: list[str], dst_dir: str) -> None:
    out = ROOT / "data" / dst_dir
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(SHARED / src_dir / name, out / name)


def main() -> None:
    mnist = ROOT / "data" / "mnist-small"
    mnist.mkdir(parents=True, exist_ok=True)
    for split, keep in (("train", 1000), ("t10k", 500)):
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{split}-{kind}-ubyte.gz"
            subset_idx(SHARED / "mnist" / name, mnist / name, keep)

    copy(
        "adbench/Classical",
        ["4_breastw.npz", "32_shuttle.npz", "6_cardio.npz", "7_Cardiotocography.npz"],
        "adbench",
    )
    copy("odds", ["wbc.mat", "cardio.mat", "breastw.mat", "smtp.mat"], "odds")
    # obj10 and pose 10 check that the loader sorts numerically, not as text.
    coil = [f"obj{o}__{p}.png" for o in (1, 2, 10) for p in (0, 1, 2, 10)]
    copy("coil-20-proc", coil, "coil20-small")


if __name__ == "__main__":
    main()
