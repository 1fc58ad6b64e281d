#!/usr/bin/env python3
"""The performance model of data-parallel training in docs/scale-out.md.

A step on N ranks takes
    T(N) = C + max(0, R(N) - h * Bw)
where C is one rank's compute for its local batch, Bw the backward pass
(about 2/3 of C for an MLP: two matmuls per layer against one forward),
h the fraction of the backward pass that communication can hide behind
(measured here), and R(N) the ring allreduce of S gradient bytes in
buckets of b bytes over links of bandwidth B and per-message latency a:
    R(N) = 2 (N-1)/N * S / B + ceil(S / b) * 2 (N-1) * a
Scaling efficiency E(N) = C / T(N) (weak scaling: the local batch stays).
The bucket size that minimises the bandwidth-exposed tail (about one
bucket's transfer after the last gradient) plus the latency term is
b* = sqrt(S * a * N * B).

usage: scale_model.py [--sps1 SAMPLES_PER_S] [--hidden H]
  --sps1    one rank's samples/s on the Fashion MLP, batch 256 (measured)
  --hidden  the fraction of the backward pass the allreduce overlaps (measured)
"""
import argparse
import math

ap = argparse.ArgumentParser()
ap.add_argument('--sps1', type=float, default=3830.0)
ap.add_argument('--hidden', type=float, default=0.6)
ap.add_argument('--bucket-mb', type=float, default=4.0)
args = ap.parse_args()

fashion_params = 784 * 2048 + 2048 + 2048 * 2048 + 2048 + 2048 * 10 + 10
# one core's matmul rate, fitted to the measured Fashion step (6 flops per
# parameter per sample: forward 2, backward 4)
flops = 6 * fashion_params * args.sps1

nets = {
    # name: (parameters, local batch, compute seconds per step)
    'digits 400-25-15-10': (10575, 32, None),
    'Fashion 784-2048-2048-10': (fashion_params, 256, None),
    '100M-param MLP (e.g. 8192 x 5 layers)': (100_000_000, 256, None),
}
# the digits net is too small for BLAS to run near its peak: its measured
# step (docs/performance.md: ~50,000 samples/s on one thread) is used
digits_step = 32 / 50000.0

links = {
    '10 Gbit/s Ethernet (TCP)': (10e9 / 8, 50e-6),
    '100 Gbit/s InfiniBand/RoCE': (100e9 / 8, 5e-6),
}

def allreduce(S, N, B, a, bucket):
    if N == 1:
        return 0.0
    return 2 * (N - 1) / N * S / B + math.ceil(S / bucket) * 2 * (N - 1) * a

print(f'one core: {flops / 1e9:.0f} GFLOP/s fitted from {args.sps1:.0f} samples/s on the Fashion MLP; '
      f'hidden fraction of the backward pass h = {args.hidden:.2f}; buckets of {args.bucket_mb:g} MB\n')
print(f'{"network":40s} {"link":28s} ' + ' '.join(f'{"N=" + str(n):>8s}' for n in (8, 64, 512)) + '   b* at N=64')
for name, (P, batch, _) in nets.items():
    S = 4 * P
    C = digits_step if name.startswith('digits') else 6 * P * batch / flops
    Bw = 2 / 3 * C
    for link, (B, a) in links.items():
        bucket = min(args.bucket_mb * 2**20, S)
        effs = []
        for N in (8, 64, 512):
            R = allreduce(S, N, B, a, bucket)
            T = C + max(0.0, R - args.hidden * Bw)
            effs.append(C / T)
        best = math.sqrt(S * a * 64 * B)
        print(f'{name:40s} {link:28s} ' + ' '.join(f'{100 * e:7.0f}%' for e in effs) +
              f'   {best / 2**20:6.1f} MB  (step {C * 1e3:.2f} ms, gradient {S / 1e6:.1f} MB)')
