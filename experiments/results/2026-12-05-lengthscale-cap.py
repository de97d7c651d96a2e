"""Prints every figure of 2026-12-05-lengthscale-cap.md from the JSON beside it: bayesian's median regret per row with
each cap on the GP's lengthscales (seeds 0-9, where the cap was chosen; seeds 100-109 against
2026-12-05-search-quality.json, the same code without a cap), and LCBench with the cap (issue 23's bar as
2026-12-05-lcbench-8.py computes it, against Optuna's pairs on the same seeds). Run with any python3."""
import glob, json, math, os, statistics

R = os.path.dirname(os.path.abspath(__file__)) + '/'


def by_row(rows):
    """Row to bayesian's median regret; a row the parallel suite repeats (one at a time) counted once."""
    table = {}
    for r in rows:
        if r['algorithm'] == 'bayesian':
            table.setdefault((r['function'], r['budget'], r['parallel'], r['noise']), r['median'])
    return table


def name(row):
    function, budget, parallel, _ = row
    return f"{function} ({budget})" + (f", {parallel} at once" if parallel > 1 else '')


def compare(label, columns):
    """A table of the columns (name, rows), then each column's geometric mean over the first's and rows better or worse by over 10%."""
    keys = [k for k in columns[0][1] if all(k in c for _, c in columns)]
    print(f"\n{label}\n| row | " + ' | '.join(n for n, _ in columns) + ' |\n| --- |' + ' --- |' * len(columns))
    for k in keys:
        print(f"| {name(k)} | " + ' | '.join(f"{c[k]:.3g}" for _, c in columns) + ' |')
    base = columns[0][1]
    for n, c in columns[1:]:
        logs = [math.log10(max(c[k], 1e-12) / max(base[k], 1e-12)) for k in keys]
        print(f"  {n}: over {len(keys)} rows the geometric mean of the medians is {10 ** statistics.mean(logs):.2f} times {columns[0][0]}'s; "
              f"better by over 10% on {sum(x < -0.04 for x in logs)}, worse on {sum(x > 0.04 for x in logs)}")


tuning = json.load(open(R + '2026-12-05-lengthscale-cap-tuning.json'))['runs']
compare('Seeds 0-9 (the cap chosen here), bayesian, median regret:',
        [('no cap', by_row(tuning['none']))] + [(f'cap {c}', by_row(tuning[c])) for c in ('1', '2', '4', '1.15 sqrt(d)')])
compare('Seeds 0-9, a cap growing with the dimension against cap 2:', [('cap 2', by_row(tuning['2'])), ('cap 1.15 sqrt(d)', by_row(tuning['1.15 sqrt(d)']))])
uncapped_additive = by_row(tuning['2, additive kernel uncapped'])
print('  cap 2 with the additive kernel exempt, `high` rows: ' + ', '.join(f"{name(k)} {uncapped_additive[k]:.3g} against {by_row(tuning['2'])[k]:.3g}" for k in uncapped_additive))
recommended = json.load(open(R + '2026-12-05-lengthscale-cap-tuning.json'))['recommendation']
print('  the recommendation of the other algorithms, noisy rows, no cap against cap 2: ' + ', '.join(
    f"{a['algorithm']} {a['function']} {a['median']:.3g} against {b['median']:.3g}" for a, b in zip(recommended['none'], recommended['2'])))
held = json.load(open(R + '2026-12-05-lengthscale-cap-held-out.json'))['runs']
compare('Seeds 100-109 (held out), bayesian, median regret:',
        [('no cap', by_row(json.load(open(R + '2026-12-05-search-quality.json'))))] + [(f'cap {c}', by_row(held[c])) for c in ('2', '4')])

compare('Seeds 100-109, bayesian as shipped (the README\'s table; the recommendation keeps the old limit):',
        [('no cap', by_row(json.load(open(R + '2026-12-05-search-quality.json')))), ('as shipped', by_row(json.load(open(R + '2026-12-05-lengthscale-cap-regret.json'))))])

BEST = json.load(open(R + 'lcbench-best-known.json'))['tasks']
lcbench = json.load(open(R + '2026-12-05-lengthscale-cap-lcbench.json'))['runs']
distance = lambda task, run: BEST[task]['valAccuracy'] - (run['bestFullLength'] or 0)
median = lambda task, runs: statistics.median(distance(task, r) for r in runs)
print('\nLCBench, bayesian, the five tuning tasks, seeds 0-9: median distance to the best known (points)')
for setup, run in lcbench.items():
    if 'tuning' in setup:
        cells = {c['task']: median(c['task'], c['runs']) for c in run['cells']}
        print(f"  {setup}: sum {sum(cells.values()):.2f} (" + ', '.join(f"{t} {d:.2f}" for t, d in cells.items()) + ')')

PAIRS = [f"{s}+{p}" for s in ('tpe', 'random') for p in ('hyperband', 'sha', 'median')]


def optuna(files):
    runs = {}
    for path in files:
        for c in json.load(open(path))['cells']:
            if c.get('side', 'optuna') == 'optuna' and len(c['runs']) == 5 and c['setup'] in PAIRS:
                runs[c['task'], c['setup']] = c['runs']
    return runs


def ours(path):
    return {c['task']: c['runs'] for c in json.load(open(R + path))['cells'] if c['setup'].startswith('bayesian+asha') and c.get('side', 'ours') == 'ours'}


O_A = optuna(glob.glob(R + '2026-12-05-lcbench-6-optuna*.json') + [R + '2026-12-05-lcbench-4-more-tasks.json', R + '2026-12-05-lcbench-5-held-out.json'])
O_B = optuna([R + '2026-12-05-lcbench-8-optuna-seeds-105-109.json'])
capped_a = {c['task']: c['runs'] for c in lcbench['asha, cap 4, all tasks, seeds 100-104']['cells']}
capped_b = {c['task']: c['runs'] for c in lcbench['asha, cap 4, all tasks, seeds 105-109']['cells']}
main_a, main_b = ours('2026-12-05-lcbench-6-asha-1.json'), ours('2026-12-05-lcbench-6-asha-1-seeds-105-109.json')
print("\nLCBench, bayesian + asha, all 34 tasks: tasks meeting issue 23's bar (as 2026-12-05-lcbench-8.py), mean median distance")
for label, a, b in [('no cap (the recommendation as measured in -6)', main_a, main_b), ('cap 4', capped_a, capped_b)]:
    counts = []
    for o, u in [(O_A, a), (O_B, b), ({k: O_A[k] + O_B[k] for k in O_B}, {t: a[t] + b[t] for t in b})]:
        bar = {t: max(1, min(median(t, o[t, p]) for p in PAIRS) / 2) for t in u}
        mine = {t: median(t, u[t]) for t in u}
        counts.append(f"{sum(mine[t] <= bar[t] for t in u)} of {len(u)} (mean {statistics.mean(mine.values()):.2f})")
    print(f"  {label}: seeds 100-104 {counts[0]}, 105-109 {counts[1]}, pooled {counts[2]}")
