"""Spearman's rank correlation between the validation accuracy at asha's rungs (epochs 1, 3, 9, 27) and at epoch 52, over
1,000 random configurations per LCBench task (drawn as a study file's space draws them: log scales, ints rounded;
seed 1), on all 34 tasks, and the share of the best tenth at epoch 52 that a cut keeping the best third at epoch 1
keeps. Needs Debian's python3-numpy and python3-onnx and the surrogate in ../shared/benchmarks/lcbench:
    /usr/bin/python3 experiments/results/2026-12-05-lcbench-6-rank-correlation.py [LCBENCH_DIR]"""
import json, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', '..', 'shared', 'benchmarks', 'lcbench'))
from lcbench import CONT, SPACE, Surrogate  # noqa: E402

RUNGS, LAST, SAMPLES = [1, 3, 9, 27], 52, 1000


def configurations(rng):
    columns = {}
    for name, (low, high, log, integer) in SPACE.items():
        u = rng.random(SAMPLES)
        value = np.exp(np.log(low) + u * (np.log(high) - np.log(low))) if log else low + u * (high - low)
        columns[name] = np.round(value) if integer else value
    return columns


def ranks(x):
    return np.argsort(np.argsort(x)).astype(float)


def spearman(a, b):
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


surrogate = Surrogate()
epochs = RUNGS + [LAST]
columns = configurations(np.random.default_rng(1))
print('| task | ' + ' | '.join(f'ρ epoch {r} to {LAST}' for r in RUNGS) + ' | ρ epoch 1 to 3 | best tenth kept by a cut at epoch 1 |')
print('| --- ' * (len(RUNGS) + 3) + '|')
# The 34 tasks of the space (the model's encoding lists one more, 167083, that the space does not offer).
for task in sorted(json.load(open(os.path.join(HERE, 'lcbench-best-known.json')))['tasks'], key=int):
    x = np.array([[e] + [columns[k][i] for k in CONT[1:]] for i in range(SAMPLES) for e in epochs], dtype=np.float32)
    accuracy = surrogate.run(np.full((len(x), 1), surrogate.codes[task]), x)[:, 1].reshape(SAMPLES, len(epochs))
    at = {e: accuracy[:, j] for j, e in enumerate(epochs)}
    best_tenth = at[LAST] >= np.quantile(at[LAST], 0.9)
    kept = at[1] >= np.quantile(at[1], 2 / 3)
    print(f'| {task} | ' + ' | '.join(f'{spearman(at[r], at[LAST]):.2f}' for r in RUNGS)
          + f' | {spearman(at[1], at[3]):.2f} | {np.mean(kept[best_tenth]):.2f} |')
