"""Prints the tables of 2026-12-05-lcbench-10.md from the JSON beside it: two ways of letting more of what the model
proposes past asha's first cut, chosen on the five tuning tasks (seeds 0-9) and checked on all 34 tasks (seeds
100-109), against issue 23's bar exactly as 2026-12-05-lcbench-8.py computes it (that script is run for its
bars and helpers, its own output discarded). Run with any python3."""
import contextlib, io, json, os, runpy, statistics

R = os.path.dirname(os.path.abspath(__file__)) + '/'
with contextlib.redirect_stdout(io.StringIO()):
    BAR = runpy.run_path(R + '2026-12-05-lcbench-8.py')
distance, median, TASKS, SETS = BAR['distance'], BAR['median'], BAR['TASKS'], BAR['SETS']
TUNING = ['3945', '34539', '126025', '167104', '189906']
MAIN = 'asha {minStep: 1, reductionFactor: 3} (the recommendation)'


def by_setup(path):
    """Setup to task to runs, the runs of every seed of a task together."""
    cells = {}
    for c in json.load(open(R + path))['cells']:
        cells.setdefault(c['setup'], {}).setdefault(c['task'], []).extend(c['runs'])
    return cells


def shown(setup):
    return MAIN if setup == 'bayesian+asha' else setup.removeprefix('bayesian+asha, ')


print('Tuning tasks, seeds 0-9: median over the seeds of the distance to the best known (points), and the sums')
print('| setting | ' + ' | '.join(TUNING) + ' | sum of medians | sum of means |')
print('| --- |' + ' --- |' * (len(TUNING) + 2))
tuning = {'bayesian+asha': by_setup('2026-12-05-lcbench-9-tuning.json')['bayesian+asha']}
tuning.update(by_setup('2026-12-05-lcbench-10-tuning.json'))
for setup, tasks in tuning.items():
    medians = [median(t, tasks[t]) for t in TUNING]
    means = [statistics.mean(distance(t, r) for r in tasks[t]) for t in TUNING]
    print(f"| {shown(setup)} | " + ' | '.join(f'{m:.2f}' for m in medians) + f' | {sum(medians):.2f} | {sum(means):.2f} |')

print('\nAll 34 tasks against the bar (seeds of both sides alike; pooled: medians of ten runs a side)')
print('| setting | seeds | tasks meeting the bar (of 34) | our mean distance | tasks missed |')
print('| --- | --- | --- | --- | --- |')
rows = [(MAIN, name, SETS[name]['ours']) for name in ('100-104', '105-109', 'pooled')]
held = {}
for c in json.load(open(R + '2026-12-05-lcbench-10-held-out.json'))['cells']:
    held.setdefault(c['setup'], {}).setdefault('100-104' if c['seeds'][0] == 100 else '105-109', {})[c['task']] = c['runs']
for setup, sets in held.items():
    for name in ('100-104', '105-109'):
        rows.append((shown(setup), name, {t: median(t, sets[name][t]) for t in TASKS}))
    rows.append((shown(setup), 'pooled', {t: median(t, sets['100-104'][t] + sets['105-109'][t]) for t in TASKS}))
for shown_setup, name, ours in rows:
    bar = SETS[name]['bar']
    missed = [t for t in TASKS if ours[t] > bar[t]]
    print(f"| {shown_setup} | {name} | {len(TASKS) - len(missed)} | {statistics.mean(ours.values()):.2f} | {', '.join(missed)} |")
