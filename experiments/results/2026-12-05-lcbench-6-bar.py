"""Prints every table of 2026-12-05-lcbench-6.md from the JSON beside it: issue 23's bar on all 34 LCBench tasks for
bayesian with asha {minStep 1, rf 3} and {minStep 3, rf 3} (medians of seeds 100-104 against Optuna's best
sampler-pruner pair on the same seeds; seeds 105-109 of ours against the same bar), the other rules' counts, how far
the best configuration each run trained was from the one it kept, and the ten seeds pooled. Run with any python3."""
import glob, json, os, statistics

R = os.path.dirname(os.path.abspath(__file__)) + '/'
BEST = json.load(open(R + 'lcbench-best-known.json'))['tasks']
TUNING = {'3945', '34539', '126025', '167104', '189906'}
TASKS = sorted(BEST, key=int)


def distance(task, run):
    """A run with no full-length trial found nothing: it counts as 0%, as the benchmark counts it."""
    return BEST[task]['valAccuracy'] - (run['bestFullLength'] or 0)


def cells(path, setup):
    """Task to runs of the set-ups whose name starts with `setup`."""
    return {c['task']: c['runs'] for c in json.load(open(R + path))['cells'] if c['setup'].startswith(setup)}


def medians(runs_by_task, of=distance):
    return {t: statistics.median(of(t, r) for r in runs) for t, runs in runs_by_task.items()}


def optuna_best():
    """Task to (median distance, pair) of Optuna's nearest pair over seeds 100-104."""
    best = {}
    files = glob.glob(R + '2026-12-05-lcbench-6-optuna*.json') + [R + '2026-12-05-lcbench-4-more-tasks.json', R + '2026-12-05-lcbench-5-held-out.json']
    for path in files:
        for c in json.load(open(path))['cells']:
            if c.get('side', 'optuna') != 'optuna' or len(c['runs']) != 5:
                continue
            d = statistics.median(distance(c['task'], r) for r in c['runs'])
            if c['task'] not in best or d < best[c['task']][0]:
                best[c['task']] = (d, c['setup'])
    return best


OPTUNA = optuna_best()
BAR = {t: max(1.0, OPTUNA[t][0] / 2) for t in TASKS}


def met(d):
    return sum(d[t] <= BAR[t] for t in TASKS)


def summary(d):
    return f"met on {met(d)}, mean {statistics.mean(d.values()):.2f}, median {statistics.median(d.values()):.2f}"


a1, a3 = medians(cells('2026-12-05-lcbench-6-asha-1.json', 'bayesian+asha')), medians(cells('2026-12-05-lcbench-6-asha-3.json', 'bayesian+asha'))
b1 = medians(cells('2026-12-05-lcbench-6-asha-1-seeds-105-109.json', 'bayesian+asha'))
b3 = medians(cells('2026-12-05-lcbench-6-asha-3-seeds-105-109.json', 'bayesian+asha'))

print("| task | asha {1, 3}, seeds 100-104 | asha {3, 3}, 100-104 | Optuna's best pair, 100-104 | bar | asha {1, 3}, 105-109 | asha {3, 3}, 105-109 |")
print('| --- | --- | --- | --- | --- | --- | --- |')
for t in TASKS:
    shown = [f"{d[t]:.2f}" + ('' if d[t] <= BAR[t] else '*') for d in (a1, a3)]
    later = [f"{d[t]:.2f}" + ('' if d[t] <= BAR[t] else '*') for d in (b1, b3)]
    print(f"| {t}{' (tuning)' if t in TUNING else ''} | {shown[0]} | {shown[1]} | {OPTUNA[t][0]:.2f} ({OPTUNA[t][1]}) | {BAR[t]:.2f} | {later[0]} | {later[1]} |")
print(f"| met (of 34) | {met(a1)} | {met(a3)} | | | {met(b1)} | {met(b3)} |")
print()
for name, d in [('asha {1, 3}, seeds 100-104', a1), ('asha {3, 3}, seeds 100-104', a3), ('asha {1, 3}, seeds 105-109', b1), ('asha {3, 3}, seeds 105-109', b3)]:
    print(f"{name}: {summary(d)}")
print(f"asha {{3, 3}} nearer than {{1, 3}} on {sum(a3[t] < a1[t] for t in TASKS)} of 34 tasks (seeds 100-104), {sum(b3[t] < b1[t] for t in TASKS)} (105-109)")
for name, first, later in [('asha {1, 3}', '2026-12-05-lcbench-6-asha-1.json', '2026-12-05-lcbench-6-asha-1-seeds-105-109.json'),
                           ('asha {3, 3}', '2026-12-05-lcbench-6-asha-3.json', '2026-12-05-lcbench-6-asha-3-seeds-105-109.json')]:
    pooled = {t: runs + cells(later, 'bayesian+asha')[t] for t, runs in cells(first, 'bayesian+asha').items()}
    print(f"{name}, ten seeds pooled: {summary(medians(pooled))}")

print('\nOther rules, seeds 100-104:')
rules = json.load(open(R + '2026-12-05-lcbench-6-rules.json'))['cells']
for setup in sorted({c['setup'] for c in rules}):
    d = medians({c['task']: c['runs'] for c in rules if c['setup'] == setup})
    print(f"{setup}: {summary(d)}, nearer than Optuna's best pair on {sum(d[t] < OPTUNA[t][0] for t in TASKS)}")
ratios = sorted((a1[t] / OPTUNA[t][0], t) for t in TASKS if a1[t] > BAR[t])
print("asha {1, 3} where it misses the bar, its distance over Optuna's best pair's: " + ', '.join(f"{t} {r:.2f}" for r, t in ratios))

print('\nThe best configuration trained against the best kept (means over the 34 tasks of the seeds\' medians, seeds 100-104):')
print('| bayesian with | best full-length trial | best configuration trained | trials started (median over tasks) | tasks within 1 point: kept / trained |')
print('| --- | --- | --- | --- | --- |')
sampled = lambda t, r: BEST[t]['valAccuracy'] - r['bestSampled']
for name, path, setup in [('asha {1, 3}', '2026-12-05-lcbench-6-asha-1.json', 'bayesian+asha'), ('asha {3, 3}', '2026-12-05-lcbench-6-asha-3.json', 'bayesian+asha'),
                          ('random + asha {1, 3}, for scale', '2026-12-05-lcbench-6-asha-1.json', 'random+asha')]:
    runs = cells(path, setup)
    full, found = medians(runs), medians(runs, sampled)
    started = statistics.median(statistics.median(r['trials'] for r in rs) for rs in runs.values())
    print(f"| {name} | {statistics.mean(full.values()):.2f} | {statistics.mean(found.values()):.2f} | {started:g} | "
          f"{sum(v <= 1 for v in full.values())} / {sum(v <= 1 for v in found.values())} |")
d1, s1 = medians(cells('2026-12-05-lcbench-6-asha-1.json', 'bayesian+asha')), medians(cells('2026-12-05-lcbench-6-asha-1.json', 'bayesian+asha'), sampled)
print('largest gaps, asha {1, 3}: ' + ', '.join(f"{t} trained {s1[t]:.2f} kept {d1[t]:.2f}" for t in sorted(TASKS, key=lambda t: s1[t] - d1[t])[:5]))

print('\nasha {3, 3} with the model threshold d + 1 = 8 (a temporary switch, not committed):')
for name, path in [('seeds 100-104', '2026-12-05-lcbench-6-asha-3-threshold-8.json'), ('seeds 105-109', '2026-12-05-lcbench-6-asha-3-threshold-8-seeds-105-109.json')]:
    print(f"{name}: {summary(medians(cells(path, 'bayesian+asha')))}")
