"""Issue 23's bar on all 34 LCBench tasks for bayesian with asha {minStep 1, rf 3} and {minStep 3, rf 3}: medians of
seeds 100-104 against Optuna's best sampler-pruner pair on the same seeds, and seeds 105-109 of ours against the same
bar. Prints 2026-12-05-lcbench-6.md's table; run with any python3 from anywhere."""
import json, statistics, glob, os
R = os.path.dirname(os.path.abspath(__file__)) + '/'
best = json.load(open(R + 'lcbench-best-known.json'))['tasks']
tuning = {'3945', '34539', '126025', '167104', '189906'}
def dist(task, runs): return statistics.median(best[task]['valAccuracy'] - (r['bestFullLength'] or 0) for r in runs)
def ours(path): return {c['task']: dist(c['task'], c['runs']) for c in json.load(open(path))['cells'] if c['setup'].startswith('bayesian+asha')}
optuna = {}
for f in glob.glob(R + '2026-12-05-lcbench-6-optuna*.json') + [R + '2026-12-05-lcbench-4-more-tasks.json', R + '2026-12-05-lcbench-5-held-out.json']:
    for c in json.load(open(f))['cells']:
        if c.get('side', 'optuna') != 'optuna' or len(c['runs']) != 5: continue
        d = dist(c['task'], c['runs'])
        if c['task'] not in optuna or d < optuna[c['task']][0]: optuna[c['task']] = (d, c['setup'])
a1, a3 = ours(R + '2026-12-05-lcbench-6-asha-1.json'), ours(R + '2026-12-05-lcbench-6-asha-3.json')
b1, b3 = ours(R + '2026-12-05-lcbench-6-asha-1-seeds-105-109.json'), ours(R + '2026-12-05-lcbench-6-asha-3-seeds-105-109.json')
print('| task | asha {1, 3}, seeds 100-104 | asha {3, 3}, 100-104 | Optuna\'s best pair, 100-104 | bar | asha {1, 3}, 105-109 | asha {3, 3}, 105-109 |')
print('| --- | --- | --- | --- | --- | --- | --- |')
count = {k: 0 for k in ['a1', 'a3', 'b1', 'b3']}
def show(v, bar, key):
    ok = v <= bar; count[key] += ok
    return f"{v:.2f}" if ok else f"{v:.2f}*"
for t in sorted(best, key=int):
    bar = max(1.0, optuna[t][0] / 2)
    print(f"| {t}{' (tuning)' if t in tuning else ''} | {show(a1[t], bar, 'a1')} | {show(a3[t], bar, 'a3')} | {optuna[t][0]:.2f} ({optuna[t][1]}) | {bar:.2f} | {show(b1[t], bar, 'b1')} | {show(b3[t], bar, 'b3')} |")
print(f"| met (of 34) | {count['a1']} | {count['a3']} | | | {count['b1']} | {count['b3']} |")
for name, d in [('asha {1,3} 100-104', a1), ('asha {3,3} 100-104', a3), ('asha {1,3} 105-109', b1), ('asha {3,3} 105-109', b3)]:
    print(name, 'mean', round(statistics.mean(d.values()), 2), 'median', round(statistics.median(d.values()), 2))
print('{3,3} nearer than {1,3}:', sum(a3[t] < a1[t] for t in best), 'of 34 (100-104);', sum(b3[t] < b1[t] for t in best), 'of 34 (105-109)')
