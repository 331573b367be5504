#!/bin/sh
# Every run of README.md, in two lanes at nice 19; outputs in runs/. About 15 CPU-minutes.
cd "$(dirname "$0")"
cc -O2 -o lstm1997 lstm1997.c -lm
cc -O2 -DGATELAB_STREAM -o lstm1997gl lstm1997.c -lgsl -lgslcblas -lm
N="nice -n 19"
(
  $N ./lstm1997 gradcheck > runs/gradcheck.txt
  $N ./lstm1997 exp1 5 > runs/exp1-row5.txt
  $N ./lstm1997 exp1 1 > runs/exp1-row1.txt
  $N ./lstm1997gl exp1gl 5 1 30 > runs/gl-exp1-row5.txt
  $N ./lstm1997gl exp1gl 1 1 30 > runs/gl-exp1-row1.txt
  for v in EXP1_REPLACE=1 EXP1_DISTINCT=1 EXP1_SEQEND=1 EXP1_TARGET_ALL=1 ALPHA_PCT=200 NO_FPRIME_OUT=1 \
           EXP1_RANGE_PERMILLE=100 ERRW_AFTER=1 EXP1_IGB_NEG=1; do
    env $v $N ./lstm1997 exp1 5 > runs/exp1-row5-$v.txt
  done
  $N ./lstm1997 exp1 5 3 10 400000 256 > runs/exp1-row5-budget400k.txt
) &
(
  $N ./lstm1997 exp4 100 > runs/exp4-T100.txt
  $N ./lstm1997gl exp4gl 100 1 10 > runs/gl-exp4-T100.txt
  env NO_FPRIME_OUT=1 $N ./lstm1997 exp4 100 10 > runs/exp4-T100-NO_FPRIME_OUT=1.txt
) &
wait
