#!/usr/bin/python3
"""Optuna 3.1's NSGAIISampler and MOTPE (TPESampler on several objectives) on the problems of
experiments/Benchmarks/MultiObjective.cs (Debian's python3-optuna).

Run by `benchmarks multi-objective`, which passes its budgets and seeds and scores the points with the same
hypervolume code as its own runs; runnable alone too:

    /usr/bin/python3 experiments/optuna-parity/optuna_multi.py --seeds 10 --first-seed 100 zdt1=80 c2dtlz2=80

Prints one JSON object: per problem and sampler, per seed, the points each trial ran, in [0,1]^d.
C2-DTLZ2's constraint goes to both samplers through constraints_func (feasible where it is at most 0).
"""
import argparse
import json
import math
import multiprocessing

import optuna

DIMENSIONS = {"zdt1": 6, "dtlz2": 6, "branincurrin": 2, "c2dtlz2": 6, "zdt2": 6, "zdt3": 6, "dtlz7": 6}


def zdt(x, shape):
    g = 1 + 9 * sum(x[1:]) / (len(x) - 1)
    return [x[0], g * shape(x[0] / g)]


def dtlz7(x, m):
    g = 1 + 9 * sum(x[m - 1:]) / len(x[m - 1:])
    f = list(x[:m - 1])
    f.append((1 + g) * (m - sum(v / (1 + g) * (1 + math.sin(3 * math.pi * v)) for v in f)))
    return f


def dtlz2(x, m):
    g = sum((v - 0.5) ** 2 for v in x[m - 1:])
    f = []
    for i in range(m):
        value = 1 + g
        for j in range(m - 1 - i):
            value *= math.cos(x[j] * math.pi / 2)
        if i > 0:
            value *= math.sin(x[m - 1 - i] * math.pi / 2)
        f.append(value)
    return f


def c2_excess(f, r=0.2):
    m = len(f)
    near_end = min((f[i] - 1) ** 2 + sum(f[j] ** 2 for j in range(m) if j != i) - r * r for i in range(m))
    near_middle = sum((v - 1 / math.sqrt(m)) ** 2 for v in f) - r * r
    return min(near_end, near_middle)


def branin_currin(x):
    x1, x2 = 15 * x[0] - 5, 15 * x[1]
    branin = (x2 - 5.1 / (4 * math.pi ** 2) * x1 * x1 + 5 / math.pi * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
    factor = 1 if x[1] == 0 else 1 - math.exp(-1 / (2 * x[1]))
    currin = factor * (2300 * x[0] ** 3 + 1900 * x[0] ** 2 + 2092 * x[0] + 60) / (100 * x[0] ** 3 + 500 * x[0] ** 2 + 4 * x[0] + 20)
    return [branin, currin]


LOSSES = {"zdt1": lambda x: zdt(x, lambda r: 1 - math.sqrt(r)), "dtlz2": lambda x: dtlz2(x, 3), "branincurrin": branin_currin,
          "c2dtlz2": lambda x: dtlz2(x, 2), "zdt2": lambda x: zdt(x, lambda r: 1 - r * r),
          "zdt3": lambda x: zdt(x, lambda r: 1 - math.sqrt(r) - r * math.sin(10 * math.pi * x[0])), "dtlz7": lambda x: dtlz7(x, 3)}


def run(task):
    name, budget, sampler_name, seed = task
    constrained = name == "c2dtlz2"
    constraints = (lambda trial: [trial.user_attrs["excess"]]) if constrained else None
    if sampler_name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)
    objectives = len(LOSSES[name]([0.5] * DIMENSIONS[name]))
    study = optuna.create_study(directions=["minimize"] * objectives, sampler=sampler)
    points = []

    def objective(trial):
        x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(DIMENSIONS[name])]
        points.append(x)
        f = LOSSES[name](x)
        if constrained:
            trial.set_user_attr("excess", c2_excess(f))
        return f

    study.optimize(objective, n_trials=budget)
    return name, sampler_name, points


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("problems", nargs="+", help="NAME=BUDGET")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tasks = [(name, int(budget), sampler, args.first_seed + i)
             for name, budget in (p.split("=") for p in args.problems)
             for sampler in ("nsga2", "motpe") for i in range(args.seeds)]
    with multiprocessing.Pool() as pool:
        results = pool.map(run, tasks)
    output = {}
    for name, sampler, points in results:
        output.setdefault(name, {}).setdefault(sampler, []).append(points)
    print(json.dumps(output))


if __name__ == "__main__":
    main()
