#!/usr/bin/env python3
"""Tables for docs/bench/ganomaly.md from the JSON lines of the `ganomaly::bn_measure` run
(crates/oddity/src/models/ganomaly/bn_measure.rs): per epoch budget, each (class, seed) with the
epoch and test ROC-AUC of each batch-norm mode, the mode `auto` keeps, and the means.

    python3 bench/ganomaly_bn_table.py bn.jsonl [--margin 0.1]

--margin M also shows what `auto` would keep with another margin M (batch statistics kept when
their validation loss × (1 + M) is below the running one's; oddity's is 0.02, `AUTO_BATCH_MARGIN`).
Lines written before the margin existed have `auto` without it.
"""
import argparse
import json
import statistics
from collections import defaultdict


def main():
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--margin", type=float, default=None)
    a = p.parse_args()
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    by_budget = defaultdict(list)
    for r in rows:
        by_budget[r["budget"]].append(r)
    for b in sorted(by_budget):
        print(f"\n### {b} epoch(s)\n")
        print("| anomaly class | seed | running: epoch, val loss, ROC-AUC | batch: epoch, val loss, ROC-AUC "
              "| auto keeps | auto ROC-AUC |" + (f" auto, margin {a.margin} |" if a.margin is not None else ""))
        print("|---|---|---|---|---|---|" + ("---|" if a.margin is not None else ""))
        mean = defaultdict(list)
        for r in sorted(by_budget[b], key=lambda r: (r["class"], r["seed"])):
            ru, ba = r["running"], r["batch"]
            auto = r[r["auto"]]
            line = (f"| {r['class']} | {r['seed']} | {ru['epoch']}, {ru['val']:.4f}, {ru['roc_auc']:.3f} "
                    f"| {ba['epoch']}, {ba['val']:.4f}, {ba['roc_auc']:.3f} | {r['auto']} | {auto['roc_auc']:.3f} |")
            mean["running"].append(ru["roc_auc"])
            mean["batch"].append(ba["roc_auc"])
            mean["auto"].append(auto["roc_auc"])
            mean["running_ap"].append(ru["ap"])
            mean["batch_ap"].append(ba["ap"])
            mean["auto_ap"].append(auto["ap"])
            if a.margin is not None:
                m = "batch" if ba["val"] * (1 + a.margin) < ru["val"] else "running"
                line += f" {m} {r[m]['roc_auc']:.3f} |"
                mean["margin"].append(r[m]["roc_auc"])
            print(line)
        f = lambda k: statistics.mean(mean[k])
        print(f"\nmean ROC-AUC of {len(mean['auto'])} runs: running {f('running'):.3f}, batch {f('batch'):.3f}, "
              f"auto {f('auto'):.3f}" + (f", auto with margin {f('margin'):.3f}" if a.margin is not None else "")
              + f"; mean AUC-PR: running {f('running_ap'):.3f}, batch {f('batch_ap'):.3f}, auto {f('auto_ap'):.3f}")
        secs = [r["train_seconds"] for r in by_budget[b]]
        print(f"training + validation seconds (mean): {statistics.mean(secs):.0f}")


if __name__ == "__main__":
    main()
