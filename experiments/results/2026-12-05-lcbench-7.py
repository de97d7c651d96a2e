"""Prints every table of 2026-12-05-lcbench-7.md from the JSON beside it: asha whose rungs stop cutting where the study's
own trials say the rung's ranking does not hold to where trials end (issue 23). The tuning tasks' seeds 0-9 for every
variant tried (-7-tuning.json), then all 34 tasks for the ones taken further (-7-seeds-100-104.json, -7-seeds-105-109.json)
against main's committed runs (-6-asha-1.json, -6-asha-1-seeds-105-109.json) and issue 23's bar (Optuna's best pair,
seeds 100-104, as -6-bar.py computes it). Run with any python3."""
import json, os, statistics

R = os.path.dirname(os.path.abspath(__file__)) + '/'
# The bar, the medians and the best known, as -6 computes them.
exec(open(R + '2026-12-05-lcbench-6-bar.py').read().split('a1, a3 = ')[0].replace("R = os.path.dirname(os.path.abspath(__file__)) + '/'", ''))


def setups(path):
    """Set-up name to task to runs, in the file's order."""
    found = {}
    if not os.path.exists(R + path):
        return found
    for c in json.load(open(R + path))['cells']:
        found.setdefault(c['setup'], {})[c['task']] = c['runs']
    return found


def short(setup):
    return setup.replace('bayesian+asha', 'asha').replace('minStep: 1, reductionFactor: 3, ', '') or 'asha'


def starred(d, t):
    return f"{d[t]:.2f}" + ('' if d[t] <= BAR[t] else '*')


tuning = setups('2026-12-05-lcbench-7-tuning.json')
five = sorted(TUNING, key=int)
print('Tuning tasks, seeds 0-9: median distance to the best known (`*` over the bar of seeds 100-104)')
print('| set-up | ' + ' | '.join(five) + ' | sum | worst ratio to bar | met | full-length trials (mean of medians) |')
print('| --- |' + ' --- |' * (len(five) + 4))
for setup, runs in tuning.items():
    d = medians(runs)
    full = statistics.mean(statistics.median(r['fullLength'] for r in runs[t]) for t in five)
    print(f"| {short(setup)} | " + ' | '.join(starred(d, t) for t in five) +
          f" | {sum(d.values()):.2f} | {max(d[t] / BAR[t] for t in five):.2f} | {sum(d[t] <= BAR[t] for t in five)} | {full:.1f} |")

main = {'100-104': medians(cells('2026-12-05-lcbench-6-asha-1.json', 'bayesian+asha')),
        '105-109': medians(cells('2026-12-05-lcbench-6-asha-1-seeds-105-109.json', 'bayesian+asha'))}
columns = [('main', seeds, d) for seeds, d in main.items()]
for seeds in main:
    for setup, runs in setups(f'2026-12-05-lcbench-7-seeds-{seeds}.json').items():
        columns.append((short(setup), seeds, medians(runs)))
columns.sort(key=lambda c: c[1])
print('\nAll 34 tasks: median distance to the best known, `*` where the bar is missed')
print('| task | ' + ' | '.join(f"{name}, {seeds}" for name, seeds, _ in columns) + " | Optuna's best pair, 100-104 | bar |")
print('| --- |' + ' --- |' * (len(columns) + 2))
for t in TASKS:
    print(f"| {t}{' (tuning)' if t in TUNING else ''} | " + ' | '.join(starred(d, t) for _, _, d in columns) +
          f" | {OPTUNA[t][0]:.2f} ({OPTUNA[t][1]}) | {BAR[t]:.2f} |")
print('| met (of 34) | ' + ' | '.join(str(met(d)) for _, _, d in columns) + ' | | |')
print('| mean / median | ' + ' | '.join(f"{statistics.mean(d.values()):.2f} / {statistics.median(d.values()):.2f}" for _, _, d in columns) + ' | | |')
for name, seeds, d in columns:
    if name != 'main':
        m = main[seeds]
        print(f"{name}, seeds {seeds}: nearer than main on {sum(d[t] < m[t] for t in TASKS)}, farther on {sum(d[t] > m[t] for t in TASKS)}; "
              f"meets the bar where main misses on {sum(d[t] <= BAR[t] < m[t] for t in TASKS)}, misses where main meets on {sum(m[t] <= BAR[t] < d[t] for t in TASKS)}")

# Ten seeds pooled, for the set-ups run on both sets.
later = setups('2026-12-05-lcbench-7-seeds-105-109.json')
pooled = {'main': {t: runs + cells('2026-12-05-lcbench-6-asha-1-seeds-105-109.json', 'bayesian+asha')[t]
                   for t, runs in cells('2026-12-05-lcbench-6-asha-1.json', 'bayesian+asha').items()}}
for setup, runs in setups('2026-12-05-lcbench-7-seeds-100-104.json').items():
    if setup in later:
        pooled[short(setup)] = {t: runs[t] + later[setup][t] for t in runs}
for name, runs in pooled.items():
    print(f"{name}, ten seeds pooled: {summary(medians(runs))}")


def spearman(a, b):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for k, i in enumerate(order):
            r[i] = k
        return r
    ra, rb, n = ranks(a), ranks(b), len(a)
    return 1 - 6 * sum((p - q) ** 2 for p, q in zip(ra, rb)) / (n * (n * n - 1))


# What a study sees of epoch 1 by its end (main's runs, seeds 100-104), beside what 1,000 random configurations show
# (-6.md's table) and how much farther asha from epoch 3 ended than asha from epoch 1.
evidence = json.load(open(R + '2026-12-05-lcbench-7-study-evidence.json'))['tasks']
text = open(R + '2026-12-05-lcbench-6.md').read().split('## Epoch 1 on all 34 tasks')[1]
population = {line.split('|')[1].strip(): float(line.split('|')[2]) for line in text.splitlines() if line.startswith('| 1') or line.startswith('| 3') or line.startswith('| 7')}
a3 = medians(cells('2026-12-05-lcbench-6-asha-3.json', 'bayesian+asha'))
b3 = medians(cells('2026-12-05-lcbench-6-asha-3-seeds-105-109.json', 'bayesian+asha'))
farther = {t: (a3[t] - main['100-104'][t]) + (b3[t] - main['105-109'][t]) for t in TASKS}
print("\nEpoch 1 as a study sees it by its end (main's runs, seeds 100-104), against 1,000 random configurations")
print("| task | ρ epoch 1 to 52, 1,000 random configurations | the study's ρ epoch 1 to its end, median of seeds (range) | share of the end's best third in epoch 1's, median | asha {3, 3} farther than {1, 3}, both seed sets summed |")
print('| --- | --- | --- | --- | --- |')
for t in TASKS:
    e = evidence[t]
    print(f"| {t} | {population[t]:.2f} | {statistics.median(e['rho']):.2f} ({min(e['rho']):.2f} to {max(e['rho']):.2f}) | {statistics.median(e['topShare']):.2f} | {farther[t]:+.2f} |")
study = [statistics.median(evidence[t]['rho']) for t in TASKS]
pop = [population[t] for t in TASKS]
gain = [farther[t] for t in TASKS]
print(f"Over the 34 tasks, Spearman's ρ of the study's ρ with the population's: {spearman(study, pop):.2f}; with how much farther "
      f"asha from epoch 3 ended: {spearman(study, gain):.2f} (the population's ρ with it: {spearman(pop, gain):.2f}); "
      f"the study's ρ is below 0 on {sum(s < 0 for s in study)} tasks, the population's on {sum(p < 0 for p in pop)}")

# The most a per-task choice between asha from epoch 1 and from epoch 3 could give, were the choice made on the
# population's ρ from epoch 1 to 52 (which no study sees), its threshold picked on these very seeds: an upper bound.
print("\nasha from epoch 3 where the population's ρ(1 to 52) is below x, from epoch 1 elsewhere (-6's runs): met on seeds 100-104 / 105-109, mean distance")
b1 = main['105-109']
a1 = main['100-104']
print('| x | tasks from epoch 3 | met, 100-104 | met, 105-109 | mean, 100-104 | mean, 105-109 |')
print('| --- | --- | --- | --- | --- | --- |')
for x in [-1, -0.2, -0.1, 0.0, 0.05, 0.1, 0.2, 0.3, 0.5]:
    late = {t: population[t] < x for t in TASKS}
    d1 = {t: (a3 if late[t] else a1)[t] for t in TASKS}
    d2 = {t: (b3 if late[t] else b1)[t] for t in TASKS}
    print(f"| {x} | {sum(late.values())} | {met(d1)} | {met(d2)} | {statistics.mean(d1.values()):.2f} | {statistics.mean(d2.values()):.2f} |")
