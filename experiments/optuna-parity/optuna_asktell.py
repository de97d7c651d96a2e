"""Optuna's ask/tell round trips per second on its journal storage, from several threads.

    /usr/bin/python3 optuna_asktell.py ROUNDS THREADS   -> one JSON line: {"roundTrips": ..., "seconds": ..., "perSecond": ...}

The counterpart of `benchmarks ask-tell` (experiments/Benchmarks/AskTell.cs): a random sampler, a trivial objective,
every tell written to a JournalFileStorage (Optuna 3.1, Debian's python3-optuna), THREADS threads sharing one study.
"""

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

rounds, threads = int(sys.argv[1]), int(sys.argv[2])
folder = tempfile.mkdtemp(prefix="optuna-asktell-")
storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(os.path.join(folder, "journal.log")))
study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=1), study_name="asktell")
lock = threading.Lock()
left = [rounds]


def work():
    while True:
        with lock:
            if left[0] <= 0:
                return
            left[0] -= 1
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        trial.suggest_float("lr", 1e-4, 1, log=True)
        trial.suggest_categorical("opt", ["sgd", "adam"])
        study.tell(trial, x)


started = time.perf_counter()
workers = [threading.Thread(target=work) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
seconds = time.perf_counter() - started
told = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
shutil.rmtree(folder)
print(json.dumps({"roundTrips": told, "seconds": round(seconds, 3), "perSecond": round(told / seconds, 1)}))
