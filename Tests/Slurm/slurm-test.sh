#!/usr/bin/env bash
# The Slurm test, on a real one-node cluster (Tests/Slurm/cluster.sh): an experiment grid
# submitted as a 4-task job array plus its merge job gives results identical, file for file
# and byte for byte, to the same grid run locally in one process; and an array task killed
# mid-run, then resubmitted, completes the grid with nothing lost or duplicated.
#
#   Tests/Slurm/slurm-test.sh [GATELAB]     # or GATELAB=... ; `make slurm-test` passes the
#                                           # binary `swift build` made
# Environment: SLURM_TEST_EXPERIMENT (the grid compared first, default
#   Experiments/slurm-demo.toml), SLURM_TEST_KILL_EXPERIMENT (the kill-and-resubmit grid,
#   default Tests/Slurm/kill-grid.toml, points slow enough to cancel a task between them),
#   SLURM_TEST_MIN_POINT_SECONDS (default 0.05: a faster kill grid gets longer sequences),
#   SLURM_TEST_TIMEOUT (whole test, default 300 s), SLURM_TEST_KEEP=1 keeps the work folder.
#
# Prints PASS/FAIL per check and ends with exactly one line `slurm: N passed, M failed`, or
# `slurm: skipped: REASON` (exit 0) when the Debian packages cannot be installed or we are
# not root — never a pass then. Exits nonzero on any failure. Stops every daemon it started.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TIMEOUT=${SLURM_TEST_TIMEOUT:-300}

# The whole test is bounded: re-run under timeout(1); on TERM the EXIT trap still stops the
# cluster.
if [ -z "${_SLURM_TEST_BOUNDED:-}" ]; then
    export _SLURM_TEST_BOUNDED=1
    exec timeout -k 20 "$TIMEOUT" "$0" "$@"
fi

# One stream, so that the cluster's messages stay in order and the summary is the last line.
exec 2>&1
GATELAB=${1:-${GATELAB:-}}
EXPERIMENT=${SLURM_TEST_EXPERIMENT:-$REPO/Experiments/slurm-demo.toml}
KILL_EXPERIMENT=${SLURM_TEST_KILL_EXPERIMENT:-$HERE/kill-grid.toml}
SHARDS=4
KILL_TASK=1

passed=0; failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
note() { echo "      $*"; }
summary() { echo "slurm: $passed passed, $failed failed"; }

WORK=""
finish() {
    local rc=$?
    trap - EXIT
    if [ -n "${CLUSTER_DIR:-}" ]; then
        local pids p left=""
        pids=$(cat "$CLUSTER_DIR"/run/*.ourpid 2>/dev/null | tr '\n' ' ')
        if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then cluster_stop keep; else cluster_stop; fi
        for p in $pids; do [ -e "/proc/$p" ] && left="$left $p"; done
        if [ -z "$left" ]; then
            pass "stopped every daemon the test started (munged, slurmctld, slurmd: pids ${pids% })"
        else
            fail "daemons still running after the stop: pids$left"
        fi
    fi
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        if [ $failed -gt 0 ] || [ $rc -ne 0 ] || [ -n "${SLURM_TEST_KEEP:-}" ]; then
            echo "work folder kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    if [ "${SKIPPED:-}" = 1 ]; then exit 0; fi
    if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then fail "test aborted (exit $rc; 124 = over ${TIMEOUT}s)"; fi
    summary
    [ $failed -eq 0 ] && [ $passed -gt 0 ] && exit 0
    exit 1
}
trap finish EXIT
trap 'echo "interrupted"; exit 124' TERM INT HUP

# ---- prerequisites that are ours to provide: failures, never skips
case "$GATELAB" in
    "") fail "no gatelab binary given (argument or GATELAB)"; exit 1 ;;
    /*) ;;
    *) GATELAB="$(pwd)/$GATELAB" ;;
esac
[ -x "$GATELAB" ] || { fail "gatelab binary $GATELAB is not executable"; exit 1; }
[ -f "$EXPERIMENT" ] || { fail "experiment $EXPERIMENT not found"; exit 1; }
[ -f "$KILL_EXPERIMENT" ] || { fail "experiment $KILL_EXPERIMENT not found"; exit 1; }

# ---- the cluster
source "$HERE/cluster.sh"
t_start=$SECONDS
cluster_start; rc=$?
if [ $rc -eq 2 ]; then
    SKIPPED=1
    echo "slurm: skipped: $CLUSTER_SKIP_REASON"
    exit 0
elif [ $rc -ne 0 ]; then
    fail "one-node cluster did not start (logs above)"
    exit 1
fi
pass "one-node cluster up in $((SECONDS - t_start))s ($(sinfo -h -o '%n %c CPUs %T'))"

WORK=$(mktemp -d /tmp/gatelab-slurm-test.XXXXXX)
EXP_NAME=$(basename "$EXPERIMENT")
KILL_NAME=$(basename "$KILL_EXPERIMENT")
# Each run works in its own folder holding a copy of the experiment, so every run's command
# line (which its report quotes) is the same `gatelab run slurm-demo.toml`, writing to the
# same relative default folder: the outputs can be compared byte for byte.
for d in local slurm; do
    mkdir -p "$WORK/$d"; cp "$EXPERIMENT" "$WORK/$d/$EXP_NAME"
done
for d in local-kill resubmit; do
    mkdir -p "$WORK/$d"; cp "$KILL_EXPERIMENT" "$WORK/$d/$KILL_NAME"
done

# ---- helpers

# Prints "STATE EXITCODE" of every job record of job (or array) $1, one per line.
job_records() {
    scontrol -o show job "$1" 2>/dev/null \
        | sed -n 's/.* JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\).*/\1 \2/p'
}
job_states_line() {
    scontrol -o show job "$1" 2>/dev/null | while read -r l; do
        local id st ex task
        id=$(sed -n 's/^JobId=\([0-9]*\).*/\1/p' <<<"$l")
        task=$(sed -n 's/.* ArrayTaskId=\([^ ]*\).*/_\1/p' <<<"$l")
        st=$(sed -n 's/.* JobState=\([A-Z_]*\).*/\1/p' <<<"$l")
        ex=$(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<<"$l")
        printf '%s%s=%s(%s) ' "$(sed -n 's/.* ArrayJobId=\([0-9]*\).*/\1/p' <<<"$l" | grep . || echo "$id")" "$task" "$st" "$ex"
    done
}
is_active() {
    job_records "$1" | grep -qE '^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|SIGNALING|STAGE_OUT)'
}
# The reason a pending job waits for, e.g. DependencyNeverSatisfied.
job_reason() { scontrol -o show job "$1" 2>/dev/null | sed -n 's/.* Reason=\([^ ]*\).*/\1/p' | head -n 1; }

# Waits (at most $1 s) until none of the jobs $2... is active. A pending job whose
# dependency can never be satisfied ends the wait too. Returns 1 on timeout.
wait_jobs() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit)) j busy
    while [ $SECONDS -lt $deadline ]; do
        busy=0
        for j in "$@"; do
            if is_active "$j" && [ "$(job_reason "$j")" != DependencyNeverSatisfied ]; then busy=1; fi
        done
        [ $busy -eq 0 ] && return 0
        sleep 0.5
    done
    return 1
}

# True when every record of job $1 is COMPLETED with exit code 0:0 ($2 records expected).
all_completed() {
    local recs n
    recs=$(job_records "$1")
    n=$(grep -c . <<<"$recs")
    [ "$n" -eq "$2" ] && ! grep -qv '^COMPLETED 0:0$' <<<"$recs"
}

show_logs() {
    local f
    for f in "$1"/*; do
        [ -f "$f" ] || continue
        echo "---- $f"; tail -n 20 "$f"
    done
}

# Output folder of a run: the folder holding report.md under $1 (the run's work folder).
output_dir() {
    local r; r=$(find "$1" -name report.md -not -path '*/slurm/*' 2>/dev/null | head -n 1)
    [ -n "$r" ] && dirname "$r"
}

# Compares output folder $2 with the local one $1, file for file (the slurm/ scripts and
# logs folder excepted; with $3 = ignore-tmp, hidden *.tmp files of a killed task too).
compare_outputs() {
    local a=$1 b=$2 mode=${3:-} label=$4
    local la lb
    la=$(cd "$a" && find . -type f -not -path './slurm/*' | LC_ALL=C sort)
    lb=$(cd "$b" && find . -type f -not -path './slurm/*' | LC_ALL=C sort)
    if [ "$mode" = ignore-tmp ]; then
        local tmps; tmps=$(grep -E '/\.[^/]*\.tmp$' <<<"$lb")
        [ -n "$tmps" ] && note "$label: temporary files left by the killed task (not compared): $(echo $tmps)"
        lb=$(grep -vE '/\.[^/]*\.tmp$' <<<"$lb")
    fi
    local npoints; npoints=$(grep -c '^\./results/points/.*\.json$' <<<"$la")
    if [ "$la" = "$lb" ]; then
        pass "$label: the same $(grep -c . <<<"$la") files as the local run ($npoints point files)"
    else
        fail "$label: file lists differ from the local run"
        diff <(echo "$la") <(echo "$lb") | sed -n '1,20p' | sed 's/^/      /'
    fi
    local f differ=0 shown=0
    while read -r f; do
        [ -n "$f" ] || continue
        [ -f "$b/$f" ] || continue
        if ! cmp -s "$a/$f" "$b/$f"; then
            differ=$((differ + 1))
            if [ $shown -lt 5 ]; then
                shown=$((shown + 1))
                note "differs: $f"
                diff "$a/$f" "$b/$f" | sed -n '1,6p' | sed 's/^/        /'
            fi
        fi
    done <<<"$la"
    if [ $differ -eq 0 ]; then
        pass "$label: every file common to both runs is byte-identical (points, results.jsonl, points.csv, summary.csv, report.md, ...)"
    else
        fail "$label: $differ files differ from the local run"
    fi
    local key
    for key in results/results.jsonl points.csv summary.csv report.md; do
        if [ -f "$a/$key" ]; then
            cmp -s "$a/$key" "$b/$key" || note "$label: $key differs"
        fi
    done
}

# ---- (a) the grids run locally, in one process
# run_local FOLDER FILE: sets OUT (the output folder) and NPOINTS.
run_local() {
    local t0=$SECONDS rc
    (cd "$WORK/$1" && "$GATELAB" run "$2") >"$WORK/$1.log" 2>&1; rc=$?
    OUT=$(output_dir "$WORK/$1")
    if [ $rc -eq 0 ] && [ -n "$OUT" ]; then
        NPOINTS=$(find "$OUT/results/points" -name '*.json' 2>/dev/null | wc -l)
        pass "local run of $2: $NPOINTS grid points in $((SECONDS - t0))s (${OUT#$WORK/$1/})"
    else
        fail "local run of $2 exited $rc or wrote no report.md"; tail -n 20 "$WORK/$1.log"
        exit 1
    fi
}
run_local local "$EXP_NAME"; LOCAL_OUT=$OUT; REL_OUT=${OUT#$WORK/local/}

# ---- (b) the same grid as a 4-task array plus the merge job
t0=$SECONDS
(cd "$WORK/slurm" && "$GATELAB" slurm "$EXP_NAME" --shards $SHARDS --gatelab "$GATELAB" --submit) >"$WORK/submit.log" 2>&1; rc=$?
ARRAY=$(sed -n 's/.*submitted array job \([0-9]*\).*/\1/p' "$WORK/submit.log")
MERGE=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' "$WORK/submit.log")
if [ $rc -eq 0 ] && [ -n "$ARRAY" ] && [ -n "$MERGE" ]; then
    pass "gatelab slurm --submit: array job $ARRAY ($SHARDS tasks), merge job $MERGE"
else
    fail "gatelab slurm --submit exited $rc"; cat "$WORK/submit.log"
    exit 1
fi
SLURM_OUT="$WORK/slurm/$REL_OUT"
for f in array.sbatch merge.sbatch submit.sh; do
    [ -f "$SLURM_OUT/slurm/$f" ] || fail "gatelab slurm wrote no $REL_OUT/slurm/$f"
done
if wait_jobs 150 "$ARRAY" "$MERGE"; then
    note "jobs: $(job_states_line "$ARRAY")$(job_states_line "$MERGE")"
    if all_completed "$ARRAY" $SHARDS; then
        pass "all $SHARDS array tasks completed with exit code 0:0"
    else
        fail "array tasks: $(job_states_line "$ARRAY")"; show_logs "$SLURM_OUT/slurm/logs"
    fi
    if all_completed "$MERGE" 1; then
        pass "merge job completed with exit code 0:0 after the array ($((SECONDS - t0))s from submission)"
    else
        fail "merge job: $(job_states_line "$MERGE") reason $(job_reason "$MERGE")"; show_logs "$SLURM_OUT/slurm/logs"
    fi
else
    fail "jobs still not finished after 150s: $(job_states_line "$ARRAY")$(job_states_line "$MERGE")"
    show_logs "$SLURM_OUT/slurm/logs"
fi
if [ -f "$SLURM_OUT/report.md" ]; then
    compare_outputs "$LOCAL_OUT" "$SLURM_OUT" strict "array + merge"
else
    fail "array + merge: no $REL_OUT/report.md"
fi

# ---- (c) an array task killed mid-run, then resubmitted
run_local local-kill "$KILL_NAME"
# The cancel must land between two of task K's points. kill-grid.toml is sized for the debug
# build (tenths of a second a point); with a faster gatelab (release), lengthen its sequences
# until the fastest point takes about MIN_POINT_SECONDS, and run the local reference again.
MIN_POINT_SECONDS=${SLURM_TEST_MIN_POINT_SECONDS:-0.05}
fastest=$(sed -n 's/^\[[0-9]*\/[0-9]*\] [^ ]* \([0-9.]*\) s.*/\1/p' "$WORK/local-kill.log" | sort -g | head -n 1)
steps=$(sed -n 's/^steps *= *\([0-9]*\) *$/\1/p' "$WORK/local-kill/$KILL_NAME" | head -n 1)
if [ -n "$fastest" ] && [ -n "$steps" ] && awk -v f="$fastest" -v m="$MIN_POINT_SECONDS" 'BEGIN { exit !(f < m) }'; then
    factor=$(awk -v f="$fastest" -v m="$MIN_POINT_SECONDS" 'BEGIN { x = 2 * m / (f < 0.005 ? 0.005 : f); x = int(x) + 1; print (x > 40 ? 40 : x) }')
    note "fastest point of $KILL_NAME took ${fastest}s: its sequences are lengthened $factor-fold (steps = $((steps * factor)))"
    for d in local-kill resubmit; do
        sed -i "s/^steps *= *$steps *\$/steps = $((steps * factor))/" "$WORK/$d/$KILL_NAME"
    done
    rm -rf "$OUT"
    run_local local-kill "$KILL_NAME"
fi
LOCAL_OUT=$OUT; REL_OUT=${OUT#$WORK/local-kill/}; POINTS=$NPOINTS
# Tasks run one at a time here (%1), so the points that appear while task K runs are its own:
# it is cancelled once it has written some of its points but not all.
t0=$SECONDS
R="$WORK/resubmit"
(cd "$R" && "$GATELAB" slurm "$KILL_NAME" --shards $SHARDS --gatelab "$GATELAB") >"$WORK/resubmit-scripts.log" 2>&1; rc=$?
ROUT="$R/$REL_OUT"
if [ $rc -ne 0 ] || [ ! -f "$ROUT/slurm/array.sbatch" ]; then
    fail "gatelab slurm (scripts only) exited $rc"; cat "$WORK/resubmit-scripts.log"
    exit 1
fi
# Points of shards 0..K-1 and of shard K (stable index i of shard i mod N).
shard_size() { echo $(( (POINTS - $1 + SHARDS - 1) / SHARDS )); }
before=0
for ((k = 0; k < KILL_TASK; k++)); do before=$((before + $(shard_size $k))); done
mine=$(shard_size $KILL_TASK)
A=$(cd "$R" && sbatch --parsable --array=0-$((SHARDS - 1))%1 "$ROUT/slurm/array.sbatch" 2>&1)
M=$(cd "$R" && sbatch --parsable --dependency=afterok:$A "$ROUT/slurm/merge.sbatch" 2>&1)
if ! [[ "$A" =~ ^[0-9]+$ && "$M" =~ ^[0-9]+$ ]]; then
    fail "sbatch of the scripts failed: $A / $M"; exit 1
fi
count_points() {
    local f c=0
    for f in "$ROUT"/results/points/*.json; do [ -e "$f" ] && c=$((c + 1)); done
    echo $c
}
# Cancel task K as soon as its first point is there: its next points take a few tenths of a
# second each (kill-grid.toml), ample margin for the poll (every 20 ms) and for scancel.
killed=""
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
    n=$(count_points)
    if [ $((n - before)) -ge 1 ]; then
        if [ $((n - before)) -lt "$mine" ]; then
            scancel "${A}_${KILL_TASK}"
            killed=$((n - before))
        fi
        break
    fi
    sleep 0.02
done
if [ -z "$killed" ]; then
    fail "could not catch task $KILL_TASK mid-run (points $(count_points) of $POINTS; its shard has $mine; state $(job_states_line "${A}_${KILL_TASK}")): the grid's points are too fast"
    exit 1
fi
pass "cancelled task ${A}_${KILL_TASK} mid-run, when it had written $killed of its $mine points"
# The rest of the array still runs; the merge waits on a dependency that now never holds.
wait_jobs 120 "$A" "$M" || fail "array $A not finished after 120s: $(job_states_line "$A")"
st=$(job_records "${A}_${KILL_TASK}" | awk '{print $1}')
reason=$(job_reason "$M")
if [ "$st" = CANCELLED ] && [ "$reason" = DependencyNeverSatisfied ]; then
    pass "task $KILL_TASK is CANCELLED and merge job $M will never run (DependencyNeverSatisfied)"
else
    fail "after the cancel: task $KILL_TASK $st, merge job $(job_states_line "$M") reason $reason"
fi
scancel "$M" 2>/dev/null
# What task K had written when the cancel reached it (the other tasks have finished theirs).
n=$(count_points)
killed=$((n - (POINTS - mine)))
[ "$killed" -ge 1 ] && [ "$killed" -lt "$mine" ] && note "task $KILL_TASK left $killed of its $mine points"
(cd "$R" && "$GATELAB" merge "$KILL_NAME") >"$WORK/merge-incomplete.log" 2>&1; rc=$?
nmissing=$((POINTS - n))
if [ $rc -eq 1 ] && grep -q "$nmissing missing" "$WORK/merge-incomplete.log" && [ ! -f "$ROUT/report.md" ]; then
    pass "gatelab merge refuses the incomplete grid (exit 1, names the $nmissing missing points, writes no report)"
else
    fail "gatelab merge on the incomplete grid ($n of $POINTS points): exit $rc, report $( [ -f "$ROUT/report.md" ] && echo written || echo absent)"
    sed -n '1,5p' "$WORK/merge-incomplete.log" | sed 's/^/      /'
fi
# Resubmission of the one task, then the merge after it.
A2=$(cd "$R" && sbatch --parsable --array=$KILL_TASK "$ROUT/slurm/array.sbatch" 2>&1)
M2=$(cd "$R" && sbatch --parsable --dependency=afterok:$A2 "$ROUT/slurm/merge.sbatch" 2>&1)
if ! [[ "$A2" =~ ^[0-9]+$ && "$M2" =~ ^[0-9]+$ ]]; then
    fail "resubmission failed: $A2 / $M2"; exit 1
fi
if wait_jobs 120 "$A2" "$M2" && all_completed "$A2" 1 && all_completed "$M2" 1; then
    pass "resubmitted task ${A2}_${KILL_TASK} and merge job $M2 completed with exit code 0:0 ($((SECONDS - t0))s for the scenario)"
else
    fail "resubmission: $(job_states_line "$A2")$(job_states_line "$M2")"; show_logs "$ROUT/slurm/logs"
fi
relog=$(ls "$ROUT/slurm/logs/${A2}_${KILL_TASK}".* 2>/dev/null | head -n 1)
if [ -n "$relog" ] && grep -q "($((mine - killed)) computed, $killed reused)" "$relog"; then
    pass "the resubmitted task reused the $killed points written before the kill and computed the other $((mine - killed))"
else
    fail "the resubmitted task's log does not say ($((mine - killed)) computed, $killed reused): $(grep -h 'shard' "$relog" 2>/dev/null | tail -n 1)"
fi
if [ -f "$ROUT/report.md" ]; then
    compare_outputs "$LOCAL_OUT" "$ROUT" ignore-tmp "kill + resubmit"
else
    fail "kill + resubmit: no $REL_OUT/report.md"
fi
cp "$ROUT/report.md" "$WORK/report-before-remerge.md" 2>/dev/null
(cd "$R" && "$GATELAB" merge "$KILL_NAME") >"$WORK/merge-again.log" 2>&1; rc=$?
if [ $rc -eq 0 ] && cmp -s "$WORK/report-before-remerge.md" "$ROUT/report.md"; then
    pass "gatelab merge again: exit 0, same report (idempotent)"
else
    fail "gatelab merge again: exit $rc"; sed -n '1,5p' "$WORK/merge-again.log"
fi

note "total $((SECONDS - t_start))s"
exit 0
