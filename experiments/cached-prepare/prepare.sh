#!/bin/sh
# Stands in for slow data preparation: three seconds, then a data file for every trial to read.
sleep 3
seq 1 100 > "$1"
echo "rows=$(wc -l < "$1")"
