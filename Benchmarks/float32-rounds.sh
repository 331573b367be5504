#!/bin/bash
# Float32 training of the adding problem (LSTM H 128, B 32, T 50, 300 updates), GateLab against
# PyTorch in alternating rounds, each run bracketed by the cores' round trip (core-round-trip.c):
#   Benchmarks/float32-rounds.sh GATELAB [ROUNDS] [PYTHON]     (from the repository root)
# GateLab's time is its record's `seconds` (start-up excluded), PyTorch's its loop's; a run is
# "fast" when both round trips were below 200 ns, "slow" when both were above. Stop other work
# first: on two cores, anything else running is in the numbers.
set -euo pipefail
BIN=${1:?usage: float32-rounds.sh GATELAB [ROUNDS] [PYTHON]}; N=${2:-15}; PY=${3:-python3}
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
cc -O2 -pthread -I Sources/CGateLabWorker/include Benchmarks/core-round-trip.c Sources/CGateLabWorker/worker.c -o "$DIR/rtt"
rtt() { "$DIR/rtt" | cut -d. -f1; }
for r in $(seq 1 "$N"); do
  a=$(rtt)
  "$BIN" train --task adding --cell lstm --hidden 128 --length 50 --batch 32 --updates 300 --precision f32 \
    --json --output "$DIR/run.json" > /dev/null 2> "$DIR/err" || { cat "$DIR/err" >&2; exit 1; }
  g=$(tail -n 1 "$DIR/run.json" | sed 's/.*"seconds":\([0-9.e-]*\).*/\1/')
  echo "gatelab $g $a $(rtt)"
  a=$(rtt); p=$("$PY" "$(dirname "$0")/torch_adding_train.py" float32 | awk '{print $4}')
  echo "pytorch $p $a $(rtt)"
done | tee "$DIR/rounds.txt"
awk '{ mode = ($3 < 200 && $4 < 200) ? "fast" : ($3 >= 200 && $4 >= 200) ? "slow" : "mixed"
       t[$1] = t[$1] " " $2; m[$1 " " mode] = m[$1 " " mode] " " $2 }
     END { for (k in t) print k ":" t[k]; for (k in m) print "  " k ":" m[k] }' "$DIR/rounds.txt" \
  | while IFS=: read -r name times; do
      med=$(echo $times | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
      echo "$name: median $med s over $(echo $times | wc -w) runs"
    done | sort
