#!/bin/sh
# Runs experiments/digits four ways (step cache on or off, asha on or off), each in a fresh data folder, and
# prints wall time, trials stopped early, steps taken from the cache and the best validation accuracy: a table,
# then the same as JSON lines. Needs a built tuner (dotnet build) and Debian's python3-sklearn.
#   sh experiments/digits/compare.sh [STUDY.yaml]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
study=${1:-$here/study.yaml}
tuner="dotnet $root/src/Api/bin/Debug/net10.0/tuner.dll"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-8s %-6s %8s %13s %12s %14s\n' cache asha seconds "stopped early" "from cache" "best accuracy"
for cache in on off; do
  for asha in on off; do
    variant="$work/$cache-$asha"
    mkdir -p "$variant"
    cp "$here"/*.py "$variant/"
    # Without the cache every step runs in every trial; without asha the earlyStopping section goes.
    no_cache='s/^      command:/      cache: false\n      command:/'
    no_asha='/^earlyStopping:/,/^  settings:/d'
    keep='s/^$//'
    sed -e "$([ $cache = off ] && printf '%s' "$no_cache" || printf '%s' "$keep")" \
        -e "$([ $asha = off ] && printf '%s' "$no_asha" || printf '%s' "$keep")" "$study" > "$variant/study.yaml"
    start=$(date +%s.%N)
    $tuner run "$variant/study.yaml" --data "$variant/data" --out "$variant/out" > "$variant/log" 2>&1
    seconds=$(/usr/bin/python3 -c "print($(date +%s.%N) - $start)")
    /usr/bin/python3 - "$variant/out/study.json" "$cache" "$asha" "$seconds" <<'PY'
import json, sys
report, cache, asha, seconds = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], float(sys.argv[4])
trials = report["trials"]
stopped = sum(t["status"] == "EarlyStopped" for t in trials)
cached = sum(s["cached"] for t in trials for s in t["steps"])
best = report["bestTrial"]["metrics"]["accuracy"]
print(f"{cache:<8} {asha:<6} {seconds:8.1f} {stopped:13d} {cached:12d} {best:14.4f}")
print(json.dumps({"cache": cache, "asha": asha, "seconds": round(seconds, 2), "earlyStopped": stopped,
                  "cachedSteps": cached, "bestAccuracy": best, "trials": len(trials)}), file=sys.stderr)
PY
  done
done
