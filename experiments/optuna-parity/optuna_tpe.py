#!/usr/bin/python3
"""Optuna's TPESampler (Debian's python3-optuna, 3.1) on the functions of experiments/Benchmarks.

Run by `benchmarks tpe-parity`, which passes the budgets it uses itself, so both sides always run the same
functions, budgets and seeds; runnable alone too:

    /usr/bin/python3 experiments/optuna-parity/optuna_tpe.py --seeds 100-109 branin=50 hartmann6=100

Prints one JSON object: per function, the seeds' simple regrets (best found - known optimum), their median
and quartiles (linear interpolation, as the C# side), and for the mixed space how often each category was
suggested after the start-up trials, per seed.
"""
import argparse
import json
import math
import multiprocessing
import sys

import numpy as np
import optuna

# Must match experiments/Benchmarks/TestFunctions.cs.
BRANIN_OPT = 0.397887
HARTMANN_OPT = -3.32237
ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
MIXED_CATEGORIES = ["sgd", "rmsprop", "adam"]
MIXED_OFFSET = [1.0, 0.5, 0.0]
MIXED_X = [1.0, 3.0, 5.0]
STARTUP = 10


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    u = x2 - b * x1 * x1 + c * x1 - 6
    return u * u + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(trial):
    x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(1, 7)]
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))
        total += ALPHA[i] * math.exp(-inner)
    return -total


def rosenbrock(d):
    def f(trial):
        x = [trial.suggest_float(f"x{i}", -2.048, 2.048) for i in range(1, d + 1)]
        return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(d - 1))
    return f


A3 = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]]
P3 = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]


def hartmann3(trial):
    x = [trial.suggest_float(f"x{i}", 0, 1) for i in range(1, 4)]
    return -sum(ALPHA[i] * math.exp(-sum(A3[i][j] * (x[j] - P3[i][j]) ** 2 for j in range(3))) for i in range(4))


def stybtang4(trial):
    x = [trial.suggest_float(f"x{i}", -5, 5) for i in range(1, 5)]
    return 0.5 * sum(v ** 4 - 16 * v ** 2 + 5 * v for v in x)


def mixed4(trial):
    x = trial.suggest_float("x", -5, 10)
    n = trial.suggest_int("n", 0, 20)
    c = MIXED_CATEGORIES.index(trial.suggest_categorical("c", MIXED_CATEGORIES))
    lr = trial.suggest_float("lr", 1e-4, 1, log=True)
    u = math.log10(lr) + 2.5 - 0.05 * (n - 13)
    return MIXED_OFFSET[c] + ((x - MIXED_X[c]) / 3) ** 2 + ((n - 13) / 5) ** 2 + u * u


FUNCTIONS = {
    "branin": (branin, BRANIN_OPT),
    "hartmann6": (hartmann6, HARTMANN_OPT),
    "rosenbrock4": (rosenbrock(4), 0.0),
    "mixed4": (mixed4, 0.0),
    "hartmann3": (hartmann3, -3.86278),
    "stybtang4": (stybtang4, -39.16616570377142 * 4),
}


def run_once(job):
    name, budget, seed = job
    objective, optimum = FUNCTIONS[name]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=budget)
    counts = None
    if "c" in study.trials[0].params:
        counts = [sum(1 for t in study.trials[STARTUP:] if t.params["c"] == c) for c in MIXED_CATEGORIES]
    return name, seed, study.best_value - optimum, counts


def seed_list(written):
    """Seeds written as FIRST-LAST, a,b,c or a mix (0-4,9), in that order."""
    seeds = []
    for part in written.split(","):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=seed_list, default=seed_list("100-109"),
                        help="FIRST-LAST or a,b,c, as the C# side writes them (default: the held-out seeds 100-109)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("budgets", nargs="*", help="function=budget; default: every function at its C# budget")
    args = parser.parse_args()
    budgets = dict(b.split("=") for b in args.budgets) or {"branin": 50, "hartmann6": 100, "rosenbrock4": 100, "mixed4": 100}
    jobs = [(name, int(budget), seed) for name, budget in budgets.items() for seed in args.seeds]
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(run_once, jobs)
    out = {}
    for name, budget in budgets.items():
        rows = sorted((r for r in results if r[0] == name), key=lambda r: r[1])
        regrets = [r[2] for r in rows]
        q1, median, q3 = np.quantile(regrets, [0.25, 0.5, 0.75])
        out[name] = {"seeds": args.seeds, "budget": int(budget), "median": median, "q1": q1, "q3": q3,
                     "regrets": regrets, "categoryCounts": [r[3] for r in rows] if rows[0][3] else None}
    json.dump({"optuna": optuna.__version__, "functions": out}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
