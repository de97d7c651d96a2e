#!/usr/bin/env python3
"""Optuna 3.1 (Debian's python3-optuna) on the LCBench surrogate, beside `benchmarks lcbench`: the same curves
(lcbench.py, the numpy twin of model.onnx; it needs Debian's python3-onnx), the same epoch budget and the same
simulated workers. TPESampler and RandomSampler under HyperbandPruner, SuccessiveHalvingPruner and MedianPruner,
through ask/tell: each worker's next epoch ends at its trial's start plus the surrogate's time to that epoch, events
are taken in that order, every epoch is reported and judged, and once the epochs trained reach the budget the run
ends. Prints one JSON object: {"optuna": version, "cells": [{"task", "setup", "runs": [one per seed]}]}.

  lcbench_optuna.py --lcbench DIR --tasks 3945,34539 --seeds 100,101,102 [--budget 1040] [--workers 4]
  lcbench_optuna.py --lcbench DIR --curve TASK '{"batch_size": 91, ...}'   one curve: [[time, val_accuracy], ...]
"""
import argparse
import heapq
import json
import sys

import optuna

EPOCHS = 52

SAMPLERS = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}
# Rungs as ours: asha's and hyperband's at 1, 3, 9, 27 epochs (reduction factor 3); the median rule at its defaults.
PRUNERS = {
    "hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS, reduction_factor=3),
    "sha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    "median": lambda: optuna.pruners.MedianPruner(),
}


def run(surrogate, space, task, sampler, pruner, seed, budget, workers):
    study = optuna.create_study(direction="maximize", sampler=SAMPLERS[sampler](seed), pruner=PRUNERS[pruner]())
    events, order = [], 0
    spent, trials, full_length, best, now = 0, 0, 0, None, 0.0
    best_sampled = None  # the best last-epoch accuracy of any configuration trained an epoch, however early it was pruned

    def launch(at):
        nonlocal order, trials
        trial = study.ask()
        for name, (low, high, log, integer) in space.items():
            (trial.suggest_int if integer else trial.suggest_float)(name, low, high, log=log)
        curve = surrogate.curve(task, trial.params, range(1, EPOCHS + 1))
        heapq.heappush(events, (at + curve[0]["time"], order, trial, curve, at, 1))
        order += 1
        trials += 1

    for _ in range(workers):
        launch(0.0)
    while spent < budget and events:
        now, _, trial, curve, start, epoch = heapq.heappop(events)
        spent += 1
        accuracy = curve[epoch - 1]["val_accuracy"]
        if epoch == 1:
            last = curve[-1]["val_accuracy"]
            best_sampled = last if best_sampled is None else max(best_sampled, last)
        trial.report(accuracy, epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif epoch == EPOCHS:
            study.tell(trial, accuracy)
            full_length += 1
            best = accuracy if best is None else max(best, accuracy)
        else:
            heapq.heappush(events, (max(now, start + curve[epoch]["time"]), order, trial, curve, start, epoch + 1))
            order += 1
            continue
        if spent < budget:
            launch(now)
    return {"bestFullLength": best, "epochs": spent, "wallSeconds": now, "trials": trials, "fullLength": full_length,
            "bestSampled": best_sampled}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lcbench", required=True, help="the folder of lcbench.py and model.onnx")
    parser.add_argument("--tasks", default="3945,34539,126025,167104,189906")
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--budget", type=int, default=20 * EPOCHS)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--setups", default=",".join(f"{s}+{p}" for s in SAMPLERS for p in PRUNERS))
    parser.add_argument("--curve", nargs=2, metavar=("TASK", "CONFIGURATION"))
    args = parser.parse_args()
    sys.path.insert(0, args.lcbench)
    from lcbench import SPACE, Surrogate
    surrogate = Surrogate()
    if args.curve:
        task, configuration = args.curve
        rows = surrogate.curve(int(task), json.loads(configuration), range(1, EPOCHS + 1))
        print(json.dumps([[r["time"], r["val_accuracy"]] for r in rows]))
        return
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cells = []
    for task in args.tasks.split(","):
        for setup in args.setups.split(","):
            sampler, pruner = setup.split("+")
            runs = [run(surrogate, SPACE, int(task), sampler, pruner, int(seed), args.budget, args.workers) for seed in args.seeds.split(",")]
            cells.append({"task": task, "setup": setup, "runs": runs})
            print(f"{task} {setup}: best {[r['bestFullLength'] for r in runs]}", file=sys.stderr)
    print(json.dumps({"optuna": optuna.__version__, "cells": cells}))


if __name__ == "__main__":
    main()
