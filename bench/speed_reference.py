"""PyTorch side of `oddity bench speed`: the same conv networks, batches and passes, timed on the CPU.

Usage (normally run by `oddity bench speed`, which prints both sides and the ratios):

    python3 bench/speed_reference.py [--steps 10] [--warmup 2] [--threads N] [--device cuda] [--bf16]

Prints one JSON object per figure on stdout (name, batch, seconds = median per step,
images_per_second, gflops_per_second for the GEMM), then {"peak_rss": bytes, "torch": version}.

Workloads, as in crates/oddity/src/speed.rs:
- "ganomaly train step": GANomaly (official samet-akcay/ganomaly `networks.py`: DCGAN encoder /
  decoder, isize 32, nc 1, nz 100, ngf = ndf = 64), batch 64, the passes of oddity's training step:
  G forward; D on real (features detached) and on the fake; G loss w_adv·L2 + w_con·L1 + w_enc·L2,
  backward, Adam; D on real and detached fake, BCE, backward, Adam. (The official code does not
  detach the real features in the G loss, which adds a backward pass through D(real); oddity's step
  detaches them, and this script times oddity's passes.)
- "ganomaly scoring (eval)": the generator in eval mode under no_grad, batch 256, mean |z − ẑ|.
- "dcec pretrain step": DCEC's conv autoencoder (Conv 5×5/2 32, 5×5/2 64, 3×3/2 128 valid,
  dense 1152 → 10 and back, mirrored ConvTranspose), batch 256, 28×28, MSE, backward, Adam 1e-3.
- "sgemm 1024x1024": torch.mm of two 1024² float32 matrices.
- with --bf16 (`oddity bench speed --bf16`): "ganomaly train step (bf16)" and "dcec pretrain step (bf16)",
  the same steps with forward passes and losses under torch.autocast(dtype=torch.bfloat16) (oneDNN runs
  the bf16 convolutions on AMX where the CPU has it), BCE on f32 probabilities, f32 weights and Adam.
Inputs are uniform in [−1, 1) from a fixed seed. On first use the script creates bench/.venv
(numpy, torch — PyPI's wheel brings CUDA libraries) and re-runs itself there; with
ODDITY_BENCH_PYTHON=current it runs in the calling interpreter instead (a machine without network
whose python3 has torch). `--device cuda` times the same passes on an NVIDIA GPU, each step ending
in a device synchronisation (the CPU steps end in a read of the loss or scores, as oddity's do);
PyTorch's defaults otherwise (cuDNN convolutions may use TF32, matrix products do not).
"""
import argparse
import contextlib
import json
import os
import resource
import sys
import time

import shared_venv



def build(nn):
    class Encoder(nn.Module):
        """Official `Encoder` (DCGAN discriminator layout), extralayers 0."""

        def __init__(self, isize, nz, nc, ndf, add_final_conv=True):
            super().__init__()
            main = nn.Sequential(nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True))
            csize, cndf = isize // 2, ndf
            while csize > 4:
                main.append(nn.Conv2d(cndf, cndf * 2, 4, 2, 1, bias=False))
                main.append(nn.BatchNorm2d(cndf * 2))
                main.append(nn.LeakyReLU(0.2, inplace=True))
                cndf, csize = cndf * 2, csize // 2
            if add_final_conv:
                main.append(nn.Conv2d(cndf, nz, 4, 1, 0, bias=False))
            self.main = main

        def forward(self, x):
            return self.main(x)

    class Decoder(nn.Module):
        """Official `Decoder` (DCGAN generator layout), extralayers 0."""

        def __init__(self, isize, nz, nc, ngf):
            super().__init__()
            cngf, tisize = ngf // 2, 4
            while tisize != isize:
                cngf, tisize = cngf * 2, tisize * 2
            main = nn.Sequential(nn.ConvTranspose2d(nz, cngf, 4, 1, 0, bias=False), nn.BatchNorm2d(cngf), nn.ReLU(True))
            csize = 4
            while csize < isize // 2:
                main.append(nn.ConvTranspose2d(cngf, cngf // 2, 4, 2, 1, bias=False))
                main.append(nn.BatchNorm2d(cngf // 2))
                main.append(nn.ReLU(True))
                cngf, csize = cngf // 2, csize * 2
            main.append(nn.ConvTranspose2d(cngf, nc, 4, 2, 1, bias=False))
            main.append(nn.Tanh())
            self.main = main

        def forward(self, x):
            return self.main(x)

    class NetD(nn.Module):
        def __init__(self, isize, nc, ndf):
            super().__init__()
            model = Encoder(isize, 1, nc, ndf)
            layers = list(model.main.children())
            self.features = nn.Sequential(*layers[:-1])
            self.classifier = nn.Sequential(layers[-1], nn.Sigmoid())

        def forward(self, x):
            features = self.features(x)
            return self.classifier(features).view(-1, 1).squeeze(1), features

    class NetG(nn.Module):
        def __init__(self, isize, nz, nc, ngf):
            super().__init__()
            self.encoder1 = Encoder(isize, nz, nc, ngf)
            self.decoder = Decoder(isize, nz, nc, ngf)
            self.encoder2 = Encoder(isize, nz, nc, ngf)

        def forward(self, x):
            latent_i = self.encoder1(x)
            gen = self.decoder(latent_i)
            return gen, latent_i, self.encoder2(gen)

    class ConvAe(nn.Module):
        """DCEC's convolutional autoencoder for 28×28 (oddity's `ConvAe` with the defaults)."""

        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(1, 32, 5, 2, 2), nn.ReLU(), nn.Conv2d(32, 64, 5, 2, 2), nn.ReLU(),
                nn.Conv2d(64, 128, 3, 2, 0), nn.ReLU(), nn.Flatten(), nn.Linear(1152, 10))
            self.unembed = nn.Linear(10, 1152)
            self.decoder = nn.Sequential(
                nn.ConvTranspose2d(128, 64, 3, 2, 0), nn.ReLU(),
                nn.ConvTranspose2d(64, 32, 5, 2, 2, output_padding=1), nn.ReLU(),
                nn.ConvTranspose2d(32, 1, 5, 2, 2, output_padding=1))

        def forward(self, x):
            z = self.encoder(x)
            return self.decoder(self.unembed(z).relu().view(-1, 128, 3, 3))

    return NetG, NetD, ConvAe


def timed(steps, warmup, f):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def figure(name, batch, seconds, flops=None):
    rec = {"name": name, "batch": batch, "seconds": seconds, "images_per_second": batch / seconds}
    if flops is not None:
        rec["gflops_per_second"] = flops / seconds / 1e9
    print(json.dumps(rec), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", default="cpu", help="torch device: cpu (default) or cuda[:N]")
    p.add_argument("--bf16", action="store_true",
                   help="also time the two training steps under torch.autocast(dtype=bfloat16), "
                        "as '... (bf16)' figures (forward and losses autocast, backward outside)")
    args = p.parse_args()
    shared_venv.ensure('torch, numpy', ["numpy", "torch"])
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    NetG, NetD, ConvAe = build(nn)
    print(f"torch {torch.__version__}, {args.threads} threads, device {dev}", file=sys.stderr)

    def uniform(*shape):
        return (torch.rand(*shape) * 2 - 1).to(dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    # GANomaly training step, batch 64, isize 32.
    netg, netd = NetG(32, 100, 1, 64).to(dev), NetD(32, 1, 64).to(dev)
    opt_g = torch.optim.Adam(netg.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(netd.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce, l1 = nn.BCELoss(), nn.L1Loss()
    x = uniform(64, 1, 32, 32)
    ones, zeros = torch.ones(64, device=dev), torch.zeros(64, device=dev)

    def precision(bf16):
        if bf16:
            return lambda: torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
        return contextlib.nullcontext

    def train_step(ctx=contextlib.nullcontext):
        with ctx():
            fake, latent_i, latent_o = netg(x)
            _, feat_real = netd(x)
            _, feat_fake = netd(fake)
            err_g = (((feat_real.detach() - feat_fake) ** 2).mean() + 50 * l1(fake, x)
                     + ((latent_i - latent_o) ** 2).mean())
        opt_g.zero_grad()
        err_g.backward()
        opt_g.step()
        with ctx():
            pred_real, _ = netd(x)
            pred_fake, _ = netd(fake.detach())
            # BCELoss is not autocast-safe: the probabilities go to it in f32.
            err_d = (bce(pred_real.float(), ones) + bce(pred_fake.float(), zeros)) * 0.5
        opt_d.zero_grad()
        err_d.backward()
        opt_d.step()
        out = err_g.item(), err_d.item()
        sync()
        return out

    figure("ganomaly train step", 64, timed(args.steps, args.warmup, train_step))
    if args.bf16:
        step = precision(True)
        figure("ganomaly train step (bf16)", 64, timed(args.steps, args.warmup, lambda: train_step(step)))

    # GANomaly scoring, eval mode, batch 256.
    netg.eval()
    xs = uniform(256, 1, 32, 32)

    def score():
        with torch.no_grad():
            _, latent_i, latent_o = netg(xs)
            return (latent_i - latent_o).abs().view(256, -1).mean(1).cpu().numpy()

    figure("ganomaly scoring (eval)", 256, timed(args.steps, args.warmup, score))

    # DCEC pretraining step, batch 256, 28×28.
    ae = ConvAe().to(dev)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    xa = uniform(256, 1, 28, 28)

    def pretrain_step(ctx=contextlib.nullcontext):
        with ctx():
            loss = ((ae(xa) - xa) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out = loss.item()
        sync()
        return out

    figure("dcec pretrain step", 256, timed(args.steps, args.warmup, pretrain_step))
    if args.bf16:
        step = precision(True)
        figure("dcec pretrain step (bf16)", 256, timed(args.steps, args.warmup, lambda: pretrain_step(step)))

    a, b = uniform(1024, 1024), uniform(1024, 1024)

    def gemm():
        c = torch.mm(a, b)
        sync()
        return c

    figure("sgemm 1024x1024", 1, timed(args.steps, args.warmup, gemm), 2 * 1024 ** 3)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak_rss": rss, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
