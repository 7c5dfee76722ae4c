#!/usr/bin/env python3
"""A PyTorch reference DPLAN, side by side with `oddity eval --model dplan`: time and AUC-PR.

Usage (from the repository root; builds nothing, expects target/release/oddity for --oddity):

    python3 bench/dplan_reference.py --data ../shared/data/adrepository/numerical/annthyroid_21feat_normalised.csv \
        --seeds 3 [--oddity] [--rmsprop dqn|keras]

On first use the script creates its own virtual environment in `bench/.venv` (numpy, pandas,
scikit-learn, torch — PyPI's torch wheel brings its CUDA libraries, a few GB, though only the
CPU is used) and re-runs itself there. It runs with torch.set_num_threads(2).

What it implements (the same settings as oddity's `dplan` defaults, Pang et al. KDD 2021):
- split: stratified 80/20 by class; 60 labelled anomalies from the training anomalies; the
  unlabelled set keeps round(0.02 * normals / 0.98) of the other training anomalies;
  inputs min-max scaled to [0, 1] on the training data (oddity's default `scaling=min_max`). (Same procedure as oddity, numpy's RNG.)
- Q-network d -> 20 ReLU -> 2, Glorot-uniform init, L2 0.01 on the hidden kernel;
  10,000 warm-up steps then 10 episodes x 2,000 steps, episodes of 2,000 steps throughout;
  replay 100,000, minibatch 32, gamma 0.99, hard target update every 10,000 steps,
  epsilon 1 -> 0.1 linearly over 10,000 steps; RMSprop lr 2.5e-4 in the DQN form
  (alpha 0.95, eps 0.01, centred; PyTorch puts eps outside the root) or the Keras form
  (alpha 0.9, eps 1e-7, momentum 0.95, per-tensor clipnorm 1).
- environment: with p = 0.5 a labelled anomaly, else nearest (after a1) / farthest (after a0)
  of 1,000 unlabelled samples in the hidden layer; reward h(s, a) + iForest score of s in the
  hidden space (min-max scaled, forest refit each episode).
- score: Q(x, a1); AUC-PR = average precision, ROC-AUC (scikit-learn).
"""
import argparse
import json
import subprocess
import time
from pathlib import Path

import shared_venv

REPO = Path(__file__).resolve().parent.parent


def load(path):
    import numpy as np
    import pandas as pd

    p = str(path)
    if p.endswith(".npz"):
        z = np.load(p, allow_pickle=False)
        return z["X"].astype(np.float32), z["y"].astype(int)
    if p.endswith(".csv"):
        t = pd.read_csv(p)
        return t.values[:, :-1].astype(np.float32), t.values[:, -1].astype(int)
    raise SystemExit(f"unsupported file {p} (use .npz or .csv)")


def split(x, y, seed, labeled=60, contamination=0.02, test_fraction=0.2):
    import numpy as np

    rng = np.random.default_rng(seed)
    anom = rng.permutation(np.where(y == 1)[0])
    norm = rng.permutation(np.where(y == 0)[0])
    nta = max(1, round(len(anom) * test_fraction))
    ntn = max(1, round(len(norm) * test_fraction))
    test = np.sort(np.concatenate([anom[:nta], norm[:ntn]]))
    train_anom, train_norm = anom[nta:], norm[ntn:]
    lab, rest = train_anom[:labeled], train_anom[labeled:]
    want = round(contamination * len(train_norm) / (1 - contamination))
    train = np.sort(np.concatenate([lab, rest[:want], train_norm]))
    is_lab = np.isin(train, lab)
    return x[train], is_lab, x[test], y[test]


def dplan(xtr, is_lab, seed, rmsprop="dqn"):
    import numpy as np
    import torch
    from sklearn.ensemble import IsolationForest

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    mean, std = xtr.min(0), xtr.max(0) - xtr.min(0)
    std[std <= 0] = 1.0
    x = torch.tensor((xtr - mean) / std, dtype=torch.float32)
    n, d = x.shape
    lab = np.where(is_lab)[0]
    unl = np.where(~is_lab)[0]

    def net():
        m = torch.nn.Sequential(torch.nn.Linear(d, 20), torch.nn.ReLU(), torch.nn.Linear(20, 2))
        for layer in (m[0], m[2]):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
        return m

    q = net()
    target = net()
    target.load_state_dict(q.state_dict())
    if rmsprop == "dqn":
        opt = torch.optim.RMSprop(q.parameters(), lr=2.5e-4, alpha=0.95, eps=0.01, centered=True)
    else:
        opt = torch.optim.RMSprop(q.parameters(), lr=2.5e-4, alpha=0.9, eps=1e-7, momentum=0.95)
    cap, warmup, episodes, steps_ep = 100_000, 10_000, 10, 2000
    total = warmup + episodes * steps_ep
    mem_s = np.zeros(cap, dtype=np.int64)
    mem_a = np.zeros(cap, dtype=np.int64)
    mem_r = np.zeros(cap, dtype=np.float32)
    mem_n = np.zeros(cap, dtype=np.int64)
    mem_t = np.zeros(cap, dtype=np.float32)
    size = 0
    intrinsic = np.zeros(n, dtype=np.float32)
    state = 0
    for step in range(1, total + 1):
        if (step - 1) % steps_ep == 0:
            state = rng.choice(unl)
            with torch.no_grad():
                h = torch.relu(q[0](x)).numpy()
            f = IsolationForest(random_state=int(rng.integers(1 << 31))).fit(h)
            s = -f.score_samples(h)
            intrinsic = ((s - s.min()) / (s.max() - s.min() + 1e-12)).astype(np.float32)
        eps = max(0.1, 1.0 - 0.9 * (step - 1) / 10_000)
        if rng.random() < eps:
            action = int(rng.integers(2))
        else:
            with torch.no_grad():
                action = int(q(x[state : state + 1]).argmax(1).item())
        if rng.random() < 0.5:
            nxt = rng.choice(lab)
        else:
            cand = rng.choice(unl, 1000)
            with torch.no_grad():
                hs = torch.relu(q[0](x[cand]))
                h0 = torch.relu(q[0](x[state : state + 1]))
                dist = ((hs - h0) ** 2).sum(1)
            nxt = cand[int(dist.argmin() if action == 1 else dist.argmax())]
        r_e = 1.0 if (is_lab[state] and action == 1) else (0.0 if (not is_lab[state] and action == 0) else -1.0)
        i = (step - 1) % cap
        mem_s[i], mem_a[i], mem_r[i], mem_n[i] = state, action, r_e + intrinsic[state], nxt
        mem_t[i] = 1.0 if step % steps_ep == 0 else 0.0
        size = min(size + 1, cap)
        if step > warmup:
            b = rng.choice(size, 32, replace=False)
            with torch.no_grad():
                y = torch.tensor(mem_r[b]) + 0.99 * (1 - torch.tensor(mem_t[b])) * target(x[mem_n[b]]).max(1).values
            qa = q(x[mem_s[b]]).gather(1, torch.tensor(mem_a[b]).unsqueeze(1)).squeeze(1)
            loss = 0.5 * ((qa - y) ** 2).mean() + 0.01 * (q[0].weight ** 2).sum()
            opt.zero_grad()
            loss.backward()
            if rmsprop != "dqn":
                for p in q.parameters():
                    torch.nn.utils.clip_grad_norm_([p], 1.0)
            opt.step()
        if step % 10_000 == 0:
            target.load_state_dict(q.state_dict())
        state = nxt
    return lambda xt: q(torch.tensor((xt - mean) / std, dtype=torch.float32))[:, 1].detach().numpy(), total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rmsprop", choices=["dqn", "keras"], default="dqn")
    ap.add_argument("--oddity", action="store_true", help="also run target/release/oddity eval --model dplan")
    args = ap.parse_args()
    shared_venv.ensure('torch, sklearn, pandas', ["numpy", "pandas", "scikit-learn", "scipy", "h5py", "torch"])
    import numpy as np
    import torch
    from sklearn.metrics import average_precision_score, roc_auc_score

    torch.set_num_threads(2)
    x, y = load(args.data)
    rows = []
    for seed in range(args.seeds):
        xtr, is_lab, xte, yte = split(x, y, seed)
        t0 = time.perf_counter()
        score, steps = dplan(xtr, is_lab, seed, args.rmsprop)
        s = score(xte)
        secs = time.perf_counter() - t0
        rows.append((average_precision_score(yte, s), roc_auc_score(yte, s), secs))
        print(f"pytorch seed {seed}: AUC-PR {rows[-1][0]:.4f} ROC-AUC {rows[-1][1]:.4f} "
              f"{secs:.1f} s ({1e6 * secs / steps:.0f} us/step)", flush=True)
    py = np.array(rows)
    print(f"pytorch mean: AUC-PR {py[:, 0].mean():.4f} ± {py[:, 0].std(ddof=1) if len(py) > 1 else 0:.4f}, "
          f"ROC-AUC {py[:, 1].mean():.4f}, {py[:, 2].mean():.2f} s/run")
    if args.oddity:
        exe = REPO / "target" / "release" / "oddity"
        # The reference implements the paper's settings: compare with oddity's `preset=paper`.
        cmd = [str(exe), "eval", "--model", "dplan", "--data", args.data, "--json",
               "--set", "preset=paper", "--set", f"rmsprop={args.rmsprop}"]
        for seed in range(args.seeds):
            cmd += ["--seed", str(seed)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        recs = [json.loads(line) for line in out.splitlines() if line.strip()]
        ap_ = np.array([r["value"] for r in recs if r["metric"] == "average_precision"])
        roc = np.array([r["value"] for r in recs if r["metric"] == "roc_auc"])
        secs = np.array([r["seconds"] for r in recs if r["metric"] == "roc_auc"])
        print(f"oddity  mean: AUC-PR {ap_.mean():.4f} ± {ap_.std(ddof=1) if len(ap_) > 1 else 0:.4f}, "
              f"ROC-AUC {roc.mean():.4f}, {secs.mean():.2f} s/run")
        print(f"time ratio pytorch / oddity: {py[:, 2].mean() / secs.mean():.1f}x")


if __name__ == "__main__":
    main()
