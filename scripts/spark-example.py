#!/usr/bin/env python3
"""Scoring a Parquet dataset on Apache Spark with a saved oddity model.

    scripts/spark-test                       # makes a venv with pyspark, then runs this
    python scripts/spark-example.py [--parquet FILE] [--rows 1000000] [--out DIR]

1. Without --parquet, writes a synthetic Parquet file of --rows rows (id + 16 float32 features,
   1% of the rows shifted as anomalies) in row groups of 100,000.
2. Fits oddity.IForest on a 100,000-row sample in the driver and saves the model directory.
3. Broadcasts the model directory's files; each Python worker writes them to a local temp
   directory once, loads the model, and scores its Arrow batches with `mapInArrow` (local[2]).
4. Scores the same rows in this one process and checks that the scores are identical, id by id.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import oddity

N_FEATURES = 16


def write_parquet(path, rows, seed=0):
    rng = np.random.default_rng(seed)
    cols = [f"x{i}" for i in range(N_FEATURES)]
    with pq.ParquetWriter(path, pa.schema([("id", pa.int64())] + [(c, pa.float32()) for c in cols])) as w:
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            X = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
            anomalous = rng.random(n) < 0.01
            X[anomalous] += rng.normal(4.0, 1.0, size=(anomalous.sum(), N_FEATURES)).astype(np.float32)
            arrays = [pa.array(np.arange(start, start + n, dtype=np.int64))] + [pa.array(X[:, i]) for i in range(N_FEATURES)]
            w.write_table(pa.Table.from_arrays(arrays, names=["id"] + cols))


def read_dir(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, root)] = f.read()
    return files


_MODEL = None


def model_from(files):
    """The model in this worker process, written out from the broadcast files on first use."""
    global _MODEL
    if _MODEL is None:
        d = tempfile.mkdtemp(prefix="oddity-model-")
        for rel, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), "wb") as f:
                f.write(data)
        _MODEL = oddity.load(d)
    return _MODEL


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--parquet", help="existing Parquet file: an `id` column + numeric features")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default="target/spark-example")
    ap.add_argument("--master", default="local[2]")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    t_all = time.perf_counter()

    path = a.parquet
    if path is None:
        path = os.path.join(a.out, f"synthetic-{a.rows}.parquet")
        if not os.path.exists(path):
            t = time.perf_counter()
            write_parquet(path, a.rows)
            print(f"wrote {path} ({a.rows} rows) in {time.perf_counter() - t:.1f}s")
    table = pq.read_table(path)
    features = [c for c in table.column_names if c != "id"]
    X = np.column_stack([table[c].to_numpy() for c in features])
    ids = table["id"].to_numpy()
    print(f"data: {path}: {X.shape[0]} rows x {X.shape[1]} features")

    # 2. fit in the driver on a sample, save the model directory
    t = time.perf_counter()
    sample = np.random.default_rng(0).choice(len(X), size=min(100_000, len(X)), replace=False)
    det = oddity.IForest(contamination=0.01, random_state=0).fit(X[sample])
    model_dir = os.path.join(a.out, "model")
    det.save(model_dir)
    print(f"fitted IForest on {len(sample)} rows in {time.perf_counter() - t:.2f}s; saved {model_dir}")

    # 4 (reference). one process
    t = time.perf_counter()
    ref = det.decision_function(X)
    t_single = time.perf_counter() - t
    print(f"one process: scored {len(X)} rows in {t_single:.2f}s")

    # 3. Spark
    from pyspark.sql import SparkSession

    t = time.perf_counter()
    spark = (
        SparkSession.builder.master(a.master)
        .appName("oddity-spark-example")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    t_start = time.perf_counter() - t
    files = spark.sparkContext.broadcast(read_dir(model_dir))
    threshold = det.threshold_

    def score_batches(batches):
        det = model_from(files.value)
        for b in batches:
            Xb = np.column_stack([b.column(c).to_numpy(zero_copy_only=False) for c in features])
            s = det.decision_function(Xb)
            yield pa.RecordBatch.from_arrays(
                [b.column("id"), pa.array(s), pa.array((s > threshold).astype(np.int32))],
                names=["id", "score", "prediction"],
            )

    t = time.perf_counter()
    out_path = os.path.join(a.out, "scores.parquet")
    df = spark.read.parquet(os.path.abspath(path))
    scored = df.mapInArrow(score_batches, "id long, score double, prediction int")
    scored.write.mode("overwrite").parquet(os.path.abspath(out_path))
    t_spark = time.perf_counter() - t
    partitions = df.rdd.getNumPartitions()
    spark.stop()
    print(f"spark {a.master}: read + score + write {len(X)} rows in {t_spark:.2f}s ({partitions} partitions; session start {t_start:.1f}s)")

    # 4. compare id by id
    got = pq.read_table(out_path)
    order = np.argsort(got["id"].to_numpy())
    got_ids = got["id"].to_numpy()[order]
    got_scores = got["score"].to_numpy()[order]
    ref_order = np.argsort(ids)
    assert np.array_equal(got_ids, ids[ref_order]), "Spark returned a different set of rows"
    same = np.array_equal(got_scores, ref[ref_order])
    flagged = int(got["prediction"].to_numpy().sum())
    print(f"rows {len(got_ids)}; flagged {flagged} above threshold {threshold:.6f}; scores identical to one process: {same}")
    print(f"total wall time {time.perf_counter() - t_all:.1f}s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
