"""Branin-Hoo, the classic 2-D test function (three global minima, f* = 0.397887).

Standard library only, so it runs on any python3. Prints the objective as a metric line.
"""
import argparse
import math

parser = argparse.ArgumentParser()
parser.add_argument("--x1", type=float, required=True)
parser.add_argument("--x2", type=float, required=True)
args = parser.parse_args()

a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
value = a * (args.x2 - b * args.x1 ** 2 + c * args.x1 - r) ** 2 + s * (1 - t) * math.cos(args.x1) + s
print(f"objective={value:.10g}")
