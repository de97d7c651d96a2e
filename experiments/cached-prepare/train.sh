#!/bin/sh
# "Trains" on the prepared data: a loss that is lowest at scale = 1, reported for three epochs.
rows=$(wc -l < "$1")
for epoch in 1 2 3; do
  awk -v s="$2" -v e="$epoch" -v n="$rows" 'BEGIN { l = log(s); printf "epoch=%d loss=%.6f\n", e, l * l + 1 / (e * n) }'
done
