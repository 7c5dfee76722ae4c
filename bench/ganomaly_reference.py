#!/usr/bin/env python3
"""A PyTorch reference GANomaly, side by side with `oddity eval --model ganomaly`: ROC-AUC per class and time.

Usage (from the repository root; expects target/release/oddity for --oddity):

    python3 bench/ganomaly_reference.py --data ../shared/data/mnist --classes 0,1,2 [--epochs 15]
        [--max-train N] [--val-fraction 0.1] [--protocol honest|official] [--bn-at-score running|batch] [--seed 0] [--oddity]
        [--out FILE.jsonl]

On first use the script creates bench/.venv (numpy, scikit-learn, pillow, torch — PyPI's torch wheel
brings CUDA libraries, only the CPU is used) and re-runs itself there. torch.set_num_threads(2).

What it implements — the official code samet-akcay/ganomaly (`lib/networks.py`, `lib/model.py`) with
oddity's defaults, and oddity's data pipeline and protocol:
- networks: bench/speed_reference.py's NetG / NetD (official layouts, isize 32, nz 100, ngf = ndf = 64),
  DCGAN init (conv N(0, 0.02), batch-norm weight N(1, 0.02), bias 0);
- data: IDX files, 28×28 resized to 32×32 with PIL's bilinear filter (torchvision's `Resize`), scaled to
  [−1, 1]; class K is the anomaly;
- training: Adam 2e-4, betas (0.5, 0.999), batch 64, shuffled, last incomplete batch dropped; per batch
  G update with w_adv·L2(features) + w_con·L1 + w_enc·L2 (1 / 50 / 1), then D update with BCE on real
  vs detached fake; D re-initialised when its loss < 1e-5;
- score: mean |z − ẑ| (`l1`, oddity's default) with running batch-norm statistics (`running`) or the
  scored batch's (`batch`, what the official code does), batches of 64;
- protocol `honest` (oddity's default): train on the training split's other classes less a seeded 10%
  (`--val-fraction`) held out, keep the epoch with the lowest held-out loss w_con·L1 + w_enc·L2, test on the whole test
  split; `official`: other classes of both splits pooled 80/20, test = 20% + all of class K, keep the
  epoch with the best test ROC-AUC. Same procedure as oddity with numpy's RNG, so the subsets differ.
Prints one JSON line per class and side (when --oddity) and a summary table.
"""
import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import shared_venv

REPO = Path(__file__).resolve().parent.parent


def read_idx(path):
    import numpy as np

    raw = gzip.open(path).read() if str(path).endswith(".gz") else open(path, "rb").read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        if (d / name).exists():
            return d / name
    raise SystemExit(f"{d}: no {stem}[.gz]")


def load_split(d, prefix, isize):
    import numpy as np
    from PIL import Image

    x = read_idx(find(d, f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = read_idx(find(d, f"{prefix}-labels-idx1-ubyte")).astype(int)
    if x.shape[1] != isize:
        x = np.stack([np.asarray(Image.fromarray(im).resize((isize, isize), Image.BILINEAR)) for im in x])
    return (x * 2 - 1)[:, None, :, :].astype(np.float32), y


def weights_init(m):
    import torch.nn as nn

    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def run_class(args, data, k, torch, nn, NetG, NetD):
    import numpy as np
    from sklearn.metrics import average_precision_score, roc_auc_score

    (xtr, ytr), (xte, yte) = data
    rng = np.random.default_rng(args.seed)
    if args.protocol == "honest":
        normals = rng.permutation(np.where(ytr != k)[0])
        n_val = min(max(1, round(len(normals) * args.val_fraction)), len(normals) - 2)
        val_x, train_idx = xtr[normals[:n_val]], normals[n_val:]
        if args.max_train and len(train_idx) > args.max_train:
            train_idx = rng.permutation(train_idx)[: args.max_train]
        train_x, test_x, test_y = xtr[train_idx], xte, (yte == k).astype(int)
        val_y = None
    else:
        xs, ys = np.concatenate([xtr, xte]), np.concatenate([ytr, yte])
        normals = rng.permutation(np.where(ys != k)[0])
        n_train = round(len(normals) * 0.8)
        head = normals[:n_train][: args.max_train or n_train]
        test_idx = np.concatenate([normals[n_train:], np.where(ys == k)[0]])
        train_x, test_x, test_y = xs[head], xs[test_idx], (ys[test_idx] == k).astype(int)
        val_x, val_y = test_x, test_y

    torch.manual_seed(args.seed)
    netg, netd = NetG(32, 100, 1, 64), NetD(32, 1, 64)
    netg.apply(weights_init)
    netd.apply(weights_init)
    opt_g = torch.optim.Adam(netg.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(netd.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce, l1 = nn.BCELoss(), nn.L1Loss()
    bs = 64

    def score(x):
        netg.train(args.bn_at_score == "batch")
        out = []
        with torch.no_grad():
            for i in range(0, len(x), bs):
                _, zi, zo = netg(torch.from_numpy(x[i: i + bs]))
                out.append((zi - zo).abs().view(zi.shape[0], -1).mean(1).numpy())
        netg.train()
        return np.concatenate(out)

    def val_loss(x):
        netg.train(args.bn_at_score == "batch")
        total = 0.0
        with torch.no_grad():
            for i in range(0, len(x), bs):
                xb = torch.from_numpy(x[i: i + bs])
                fake, zi, zo = netg(xb)
                total += (50 * l1(fake, xb) + ((zi - zo) ** 2).mean()).item() * len(xb)
        netg.train()
        return total / len(x)

    best, best_state, best_epoch = None, None, 0
    t0 = time.perf_counter()
    train_seconds = 0.0
    for epoch in range(1, args.epochs + 1):
        te = time.perf_counter()
        order = torch.randperm(len(train_x))
        for b in range(len(train_x) // bs):
            xb = torch.from_numpy(train_x[order[b * bs: (b + 1) * bs].numpy()])
            fake, zi, zo = netg(xb)
            _, feat_real = netd(xb)
            _, feat_fake = netd(fake)
            err_g = (((feat_real - feat_fake) ** 2).mean() + 50 * l1(fake, xb) + ((zi - zo) ** 2).mean())
            opt_g.zero_grad()
            err_g.backward()
            opt_g.step()
            pred_real, _ = netd(xb)
            pred_fake, _ = netd(fake.detach())
            err_d = (bce(pred_real, torch.ones_like(pred_real)) + bce(pred_fake, torch.zeros_like(pred_fake))) * 0.5
            opt_d.zero_grad()
            err_d.backward()
            opt_d.step()
            if err_d.item() < 1e-5:
                netd.apply(weights_init)
        train_seconds += time.perf_counter() - te
        merit = roc_auc_score(val_y, score(val_x)) if val_y is not None else -val_loss(val_x)
        if best is None or merit > best:
            best, best_epoch = merit, epoch
            best_state = {n: t.clone() for n, t in netg.state_dict().items()}
        print(f"  class {k} epoch {epoch}: G {err_g.item():.4f} D {err_d.item():.4f} "
              f"{'val AUC' if val_y is not None else 'val loss'} {abs(merit):.4f}", file=sys.stderr)
    netg.load_state_dict(best_state)
    s = score(test_x)
    return {
        "side": "pytorch", "class": k, "roc_auc": roc_auc_score(test_y, s),
        "average_precision": average_precision_score(test_y, s), "epoch_kept": best_epoch,
        "seconds": time.perf_counter() - t0, "train_seconds_per_epoch": train_seconds / args.epochs,
        "n_train": len(train_x),
    }


def run_oddity(args, k):
    exe = REPO / "target" / "release" / "oddity"
    cmd = [str(exe), "eval", "--model", "ganomaly", "--data", args.data, "--anomaly-class", str(k),
           "--seed", str(args.seed), "--protocol", args.protocol, "--set", f"epochs={args.epochs}",
           "--set", f"bn_at_score={args.bn_at_score}", "--json"]
    if args.max_train:
        cmd += ["--max-train", str(args.max_train)]
    if args.protocol == "honest":
        cmd += ["--val-fraction", str(args.val_fraction)]
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t
    recs = {r["metric"]: r for r in map(json.loads, out.splitlines())}
    return {"side": "oddity", "class": k, "roc_auc": recs["roc_auc"]["value"],
            "average_precision": recs["average_precision"]["value"], "seconds": recs["roc_auc"]["seconds"],
            "wall_seconds": wall}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="IDX directory (MNIST / Fashion-MNIST)")
    p.add_argument("--classes", default="all", help="comma-separated anomaly classes, or all")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--max-train", type=int, default=0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--protocol", choices=["honest", "official"], default="honest")
    p.add_argument("--bn-at-score", choices=["running", "batch"], default="running")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--oddity", action="store_true", help="also run target/release/oddity eval, class by class")
    p.add_argument("--out", help="append the JSON lines to this file")
    args = p.parse_args()
    shared_venv.ensure("torch, numpy, sklearn, PIL", ["numpy", "scikit-learn", "pillow", "torch"])
    import numpy as np
    import torch
    from torch import nn

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from speed_reference import build

    torch.set_num_threads(args.threads)
    NetG, NetD, _ = build(nn)
    d = Path(args.data)
    data = (load_split(d, "train", 32), load_split(d, "t10k", 32))
    classes = range(int(data[0][1].max()) + 1) if args.classes == "all" else [int(c) for c in args.classes.split(",")]
    rows = []
    for k in classes:
        sides = [run_class(args, data, k, torch, nn, NetG, NetD)]
        if args.oddity:
            sides.append(run_oddity(args, k))
        for r in sides:
            r.update(protocol=args.protocol, bn_at_score=args.bn_at_score, epochs=args.epochs,
                     max_train=args.max_train, seed=args.seed, data=d.name)
            line = json.dumps(r)
            print(line, flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(line + "\n")
        rows.append(sides)
    print(f"\n{d.name}, protocol {args.protocol}, BN at score {args.bn_at_score}, {args.epochs} epochs, "
          f"max-train {args.max_train or 'all'}, seed {args.seed}", file=sys.stderr)
    print("class | pytorch ROC-AUC | oddity ROC-AUC | pytorch s | oddity s", file=sys.stderr)
    for sides in rows:
        o = sides[1] if len(sides) > 1 else None
        print(f"{sides[0]['class']} | {sides[0]['roc_auc']:.3f} | {o['roc_auc'] if o else float('nan'):.3f} | "
              f"{sides[0]['seconds']:.0f} | {o['seconds'] if o else float('nan'):.0f}", file=sys.stderr)
    mean = lambda side, key: np.mean([s[side][key] for s in rows]) if len(rows[0]) > side else float("nan")
    print(f"mean | {mean(0, 'roc_auc'):.3f} | {mean(1, 'roc_auc'):.3f} | {mean(0, 'seconds'):.0f} | "
          f"{mean(1, 'seconds'):.0f}", file=sys.stderr)


if __name__ == "__main__":
    main()
