#!/usr/bin/python3
"""PyTorch side of the training benchmarks (a) and (b): the same network,
optimizer, batch size, epochs and data shape as bench_train.c, on the CPU
with a fixed thread count. Prints one key=value line like bench_train.

    /usr/bin/python3 tools/bench/torch_train.py --net digits|fashion|mlp --threads N
        [--width W] [--batch B] [--data DIR|random]

OPENBLAS_NUM_THREADS should be 1 for a 1-thread run (tools/bench.sh sets
it): Debian's torch otherwise spins OpenBLAS threads beside its own.

digits trains on DIR/digits20-train-*.gz (default examples/data) like
bench_train; random data: inputs uniform in [0,1), labels from a random
linear teacher.
"""
import argparse
import gzip
import os
import resource
import struct
import time

import torch


def read_idx(path):
    """An IDX file of unsigned bytes (gzip or raw) as a uint8 tensor."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    data = torch.frombuffer(bytearray(raw[4 + 4 * rank:]), dtype=torch.uint8)
    return data.reshape(dims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", choices=["digits", "fashion", "mlp"], default="digits")
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--samples", type=int)
    ap.add_argument("--data")
    args = ap.parse_args()
    digits, fashion = args.net == "digits", args.net == "fashion"
    w = args.width
    dims = [400, 25, 15, 10] if digits else [784, 256, 128, 10] if fashion else [784, w, w, 10]
    epochs = args.epochs or (40 if digits else 1)
    samples = args.samples or (5000 if digits else 60000)
    batch = args.batch or (32 if digits else 64 if fashion else 128)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    torch.manual_seed(2024)

    data = args.data or ("examples/data" if digits else "/usr/share/datasets/fashion-mnist" if fashion else "random")
    stem, sep = ("train", "-") if fashion else ("digits20-train", ".")
    if data == "random":
        x = torch.rand(samples, dims[0])
        # labels from a random linear teacher, as in bench_train.c
        y = ((x - 0.5) @ torch.randn(dims[0], dims[3])).argmax(dim=1)
    else:
        images = read_idx(os.path.join(data, f"{stem}-images{sep}idx3-ubyte.gz"))
        x = images.reshape(images.shape[0], -1).float() / 255.0
        y = read_idx(os.path.join(data, f"{stem}-labels{sep}idx1-ubyte.gz")).long()
        samples = x.shape[0]
    layers = []
    for i in range(3):
        lin = torch.nn.Linear(dims[i], dims[i + 1])
        torch.nn.init.xavier_uniform_(lin.weight)  # Keras's glorot-uniform
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    steps = 0
    first = last = float("nan")
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = torch.randperm(samples)
        total = 0.0
        for at in range(0, samples, batch):
            idx = perm[at:at + batch]
            xb, yb = x[idx], y[idx]
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            steps += 1
        last = total / samples
        if epoch == 0:
            first = last
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    source = "random" if data == "random" else "fashion" if fashion else "digits20"
    print(f"impl=pytorch net={args.net} width={dims[1]} loop=torch data={source} threads={args.threads} epochs={epochs} samples={samples} "
          f"batch={batch} seconds={secs:.4f} steps={steps} us_per_step={1e6 * secs / steps:.2f} "
          f"samples_per_s={samples * epochs / secs:.0f} first_loss={first:.4f} last_loss={last:.4f} "
          f"peak_rss_kib={rss}")


if __name__ == "__main__":
    main()
