"""Branin-Hoo (f* = 0.397887) as a Katib trial would run it: arguments in Katib's --name=value style, metrics
printed as name=value lines (what Katib's StdOut collector and this tuner both read). Standard library only.

--noise-evals=N evaluates N times with a shrinking perturbation and prints each as an epoch, a learning curve
that ends at the exact value (what medianstop watches).
"""
import argparse
import math

parser = argparse.ArgumentParser()
parser.add_argument("--x1", type=float, required=True)
parser.add_argument("--x2", type=float, required=True)
parser.add_argument("--noise-evals", type=int, default=1)
args = parser.parse_args()

a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
value = a * (args.x2 - b * args.x1 ** 2 + c * args.x1 - r) ** 2 + s * (1 - t) * math.cos(args.x1) + s
for epoch in range(1, args.noise_evals + 1):
    # The last epoch is exact; earlier ones overshoot by a shrinking amount, as a model still training would.
    print(f"epoch={epoch} loss={value * (1 + (args.noise_evals - epoch) / args.noise_evals):.10g}")
