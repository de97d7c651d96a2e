"""Prints every table of 2026-12-05-lcbench-9.md from the JSON beside it: asha's rungs chosen on the five tuning tasks
(seeds 0-9, 10-29 for three settings, 0-29 for two) and the choices checked on all 34 tasks (seeds 100-104, and 105-109 for
one), against issue 23's bar exactly as 2026-12-05-lcbench-8.py computes it (that script is run for its bars and
helpers, its own output discarded). Run with any python3."""
import contextlib, io, json, os, runpy, statistics

R = os.path.dirname(os.path.abspath(__file__)) + '/'
with contextlib.redirect_stdout(io.StringIO()):
    BAR = runpy.run_path(R + '2026-12-05-lcbench-8.py')
distance, median, TASKS, SETS = BAR['distance'], BAR['median'], BAR['TASKS'], BAR['SETS']
TUNING = ['3945', '34539', '126025', '167104', '189906']


def shown(setup):
    return 'asha {minStep: 1, reductionFactor: 3} (the recommendation)' if setup == 'bayesian+asha' else setup.removeprefix('bayesian+')


def by_setup(path):
    """(setup, first seed) to task to runs."""
    cells = {}
    for c in json.load(open(R + path))['cells']:
        cells.setdefault((c['setup'], c['seeds'][0]), {})[c['task']] = c['runs']
    return cells


print('Tuning tasks: median over the seeds of the distance to the best known (points), and the sums over the five tasks')
print('| setting | seeds | ' + ' | '.join(TUNING) + ' | sum of medians | sum of means |')
print('| --- | --- |' + ' --- |' * (len(TUNING) + 2))
def tuning_row(setup, seeds, tasks):
    medians = [median(t, tasks[t]) for t in TUNING]
    means = [statistics.mean(distance(t, r) for r in tasks[t]) for t in TUNING]
    print(f"| {shown(setup)} | {seeds} | " + ' | '.join(f'{m:.2f}' for m in medians) + f' | {sum(medians):.2f} | {sum(means):.2f} |')


first_ten, next_twenty = by_setup('2026-12-05-lcbench-9-tuning.json'), by_setup('2026-12-05-lcbench-9-tuning-seeds-10-29.json')
for part in (first_ten, next_twenty):
    for (setup, first), tasks in part.items():
        tuning_row(setup, f"{first}-{first + len(tasks[TUNING[0]]) - 1}", tasks)
# Seeds 0-29: the settings run on both seed sets, pooled, beside those run on all thirty at once.
for (setup, _), tasks in next_twenty.items():
    tuning_row(setup, '0-29', {t: first_ten[setup, 0][t] + tasks[t] for t in TUNING})
for (setup, _), tasks in by_setup('2026-12-05-lcbench-9-tuning-seeds-0-29.json').items():
    tuning_row(setup, '0-29', tasks)

print('\nAll 34 tasks against the bar (seeds of both sides alike; pooled: medians of ten runs a side)')
print('| setting | seeds | tasks meeting the bar (of 34) | our mean distance | tasks missed |')
print('| --- | --- | --- | --- | --- |')
held = by_setup('2026-12-05-lcbench-9-held-out.json')
rows = [('bayesian+asha', name, SETS[name]['ours']) for name in ('100-104', '105-109', 'pooled')]
for (setup, first), tasks in held.items():
    name = '100-104' if first == 100 else '105-109'
    rows.append((setup, name, {t: median(t, tasks[t]) for t in TASKS}))
    if first == 105 and (setup, 100) in held:
        rows.append((setup, 'pooled', {t: median(t, held[setup, 100][t] + tasks[t]) for t in TASKS}))
for setup, name, ours in rows:
    bar = SETS[name]['bar']
    missed = [t for t in TASKS if ours[t] > bar[t]]
    print(f"| {shown(setup)} | {name} | {len(TASKS) - len(missed)} | {statistics.mean(ours.values()):.2f} | {', '.join(missed)} |")
