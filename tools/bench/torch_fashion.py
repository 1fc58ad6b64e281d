#!/usr/bin/python3
"""PyTorch side of the Fashion-MNIST benchmark (tools/bench/fashion.sh): the
networks of examples/fashion_cnn.c and examples/fashion_mlp.c, the same
optimizer (Adam 0.001, eps 1e-7), batch size and data, trained on the CPU
with a fixed thread count. Prints one key=value line.

    /usr/bin/python3 tools/bench/torch_fashion.py --net cnn|mlp --threads N
        [--epochs E] [--limit N] [--data DIR]
"""
import argparse
import os
import resource
import time

import torch

from torch_train import read_idx  # beside this script


def glorot(layer):
    torch.nn.init.xavier_uniform_(layer.weight)  # Keras's (and nngraph's) default
    torch.nn.init.zeros_(layer.bias)
    return layer


def network(kind):
    nn = torch.nn
    if kind == "cnn":
        return nn.Sequential(
            glorot(nn.Conv2d(1, 32, 3)), nn.ReLU(), nn.MaxPool2d(2),
            glorot(nn.Conv2d(32, 64, 3)), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), glorot(nn.Linear(1600, 128)), nn.ReLU(), nn.Dropout(0.25),
            glorot(nn.Linear(128, 10)))
    return nn.Sequential(
        glorot(nn.Linear(784, 256)), nn.ReLU(), nn.Dropout(0.2),
        glorot(nn.Linear(256, 128)), nn.ReLU(), nn.Dropout(0.2),
        glorot(nn.Linear(128, 10)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", choices=["cnn", "mlp"], default="cnn")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    torch.manual_seed(1234)
    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).float() / 255.0
    y = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).long()
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    x = x.reshape(-1, 1, 28, 28) if args.net == "cnn" else x.reshape(-1, 784)
    samples, batch = x.shape[0], 32 if args.net == "cnn" else 64  # the examples' defaults
    model = network(args.net)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    steps, last = 0, float("nan")
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        perm = torch.randperm(samples)
        total = 0.0
        for at in range(0, samples, batch):
            idx = perm[at:at + batch]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            steps += 1
        last = total / samples
    secs, cpu_secs = time.perf_counter() - t0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"impl=pytorch net={args.net} threads={args.threads} epochs={args.epochs} samples={samples} batch={batch} "
          f"seconds={secs:.3f} cpu_seconds={cpu_secs:.3f} samples_per_s={samples * args.epochs / secs:.0f} last_loss={last:.4f} "
          f"peak_rss_kib={rss}")


if __name__ == "__main__":
    main()
