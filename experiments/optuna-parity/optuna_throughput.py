#!/usr/bin/python3
"""Optuna 3.1 orchestrating the trivial trials of `benchmarks throughput`: each trial runs
`sh -c "echo objective=X"` as a process, reads the value from its output, and the study keeps its trials in a
JournalStorage file, n_jobs trials at once (threads, as Optuna runs them).

Run by `benchmarks throughput --optuna`, which times this program from its start to its exit, so Python's
start-up and imports count as the tuner's start-up does; runnable alone too:

    /usr/bin/python3 experiments/optuna-parity/optuna_throughput.py 2000 8 /tmp/journal.log

Prints one JSON object: trials, succeeded, and the seconds from the first trial's start to the last one's end.
"""
import json
import subprocess
import sys
import time
import warnings

import optuna


def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    output = subprocess.run(["sh", "-c", f"echo objective={x}"], capture_output=True, text=True, check=True).stdout
    return float(output.strip().split("=", 1)[1])


def main():
    trials, jobs, journal = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(journal))
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=1))
    clock = time.perf_counter()
    study.optimize(objective, n_trials=trials, n_jobs=jobs)
    seconds = time.perf_counter() - clock
    succeeded = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    print(json.dumps({"trials": trials, "succeeded": succeeded, "studySeconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
