#!/usr/bin/python3
"""The floor under `benchmarks throughput`: the same trivial trials' processes (`sh -c "echo objective=X"`), PARALLEL
at a time from as many threads, their output read, and nothing else: no study, no store, no suggestion. What a tuner
in Python adds to each trial is its time beyond this. Its threads share one interpreter, so this floor is Python's:
`benchmarks throughput --floor` starts the same processes as our tuner starts its steps (1.2-1.4 s for 2,000 where
this takes 1.7-2.1 s). Time it from outside, as the benchmark times Optuna:

    /usr/bin/time -f "%e s wall %U user %S sys" /usr/bin/python3 experiments/optuna-parity/spawn_floor.py 2000 8
"""
import concurrent.futures
import subprocess
import sys


def main(trials: int, parallel: int) -> None:
    def trial(number: int) -> bytes:
        return subprocess.run(["sh", "-c", f"echo objective={number / trials}"], capture_output=True, check=True).stdout

    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        outputs = list(pool.map(trial, range(trials)))
    print(f"{len(outputs)} processes, {parallel} at a time")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 8)
