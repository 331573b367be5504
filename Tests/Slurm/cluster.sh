#!/usr/bin/env bash
# A private one-node Slurm cluster on loopback, for the tests: Debian's munge, slurmctld
# and slurmd, started in the foreground under this script's control with their own munge
# key and socket, their own slurm.conf, free loopback ports and a state folder under a
# mktemp directory. Nothing system-wide is touched: a munged or slurmd that the package
# install or another user started keeps running, and only the pids started here are ever
# signalled.
#
# Two ways to use it:
#   source Tests/Slurm/cluster.sh
#   cluster_start || ...           # 0 up; 2 skipped (CLUSTER_SKIP_REASON says why); 1 failed
#   trap cluster_stop EXIT         # exports SLURM_CONF, so sbatch/squeue/scancel use it
#   ...
#   cluster_stop [keep]            # cancels its jobs, stops its daemons; keeps the logs
#                                  # (and says where) when given "keep" or when it had to KILL
# or as a command:
#   Tests/Slurm/cluster.sh start   # prints the state folder and `export SLURM_CONF=...`;
#                                  # exit 77 when skipped
#   Tests/Slurm/cluster.sh stop STATE_DIR
#
# Needs root (the daemons run as root; SlurmUser=root). Installs the Debian packages when
# one is missing (apt-get, with service starts blocked by a temporary policy-rc.d).

CLUSTER_PACKAGES=(slurmctld slurmd slurm-client munge)
CLUSTER_NODE=gatelab1
CLUSTER_START_TIMEOUT=${CLUSTER_START_TIMEOUT:-60}

_cl_log() { echo "cluster: $*" >&2; }

# True when every package is installed.
_cl_missing_packages() {
    local p missing=()
    for p in "${CLUSTER_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
            || missing+=("$p")
    done
    echo "${missing[*]}"
}

# Installs missing packages. Returns 0 when all are present, 2 (with CLUSTER_SKIP_REASON)
# when they cannot be installed.
cluster_install() {
    CLUSTER_SKIP_REASON=""
    if ! command -v dpkg-query >/dev/null 2>&1; then
        CLUSTER_SKIP_REASON="not a Debian system (no dpkg-query); needs slurmctld, slurmd, slurm-client, munge"
        return 2
    fi
    local missing; missing=$(_cl_missing_packages)
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        CLUSTER_SKIP_REASON="packages missing ($missing) and not root to install them"
        return 2
    fi
    _cl_log "installing missing Debian packages: $missing"
    # Package postinst scripts try to start munge and slurm services: refuse that with a
    # policy-rc.d, removed afterwards only when it was created here.
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    local rc=0 log; log=$(mktemp /tmp/gatelab-slurm-apt.XXXXXX)
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $missing; } >"$log" 2>&1 || rc=$?
    [ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    missing=$(_cl_missing_packages)
    if [ $rc -ne 0 ] || [ -n "$missing" ]; then
        tail -n 5 "$log" >&2
        CLUSTER_SKIP_REASON="apt-get could not install: ${missing:-slurm packages} (apt-get exit $rc, log $log)"
        return 2
    fi
    rm -f "$log"
    return 0
}

# Loopback TCP ports in use (any state), one per line.
_cl_used_ports() {
    if command -v ss >/dev/null 2>&1; then
        ss -Hatn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }'
    fi
    local f
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] && awk 'NR > 1 { split($2, a, ":"); print strtonum("0x" a[2]) }' "$f" 2>/dev/null
    done
}

# Prints N distinct free ports in 20000-59999.
_cl_free_ports() {
    local n=$1 used chosen=() p tries=0
    used=" $(_cl_used_ports | sort -u | tr '\n' ' ') "
    while [ ${#chosen[@]} -lt "$n" ] && [ $tries -lt 1000 ]; do
        tries=$((tries + 1))
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        case "$used" in *" $p "*) continue ;; esac
        case " ${chosen[*]} " in *" $p "*) continue ;; esac
        chosen+=("$p")
    done
    echo "${chosen[*]}"
}

# True when pid $1 is alive and its command line mentions the state dir (not a reused pid).
_cl_ours() {
    local pid=$1
    [ -n "$pid" ] && { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$CLUSTER_DIR"
}

_cl_tails() {
    local f
    for f in "$CLUSTER_DIR"/log/*.log; do
        [ -s "$f" ] || continue
        echo "---- last lines of $f" >&2
        tail -n 15 "$f" >&2
    done
}

_cl_write_conf() {
    local ctld_port=$1 slurmd_port=$2 hw host
    host=$(hostname -s 2>/dev/null || hostname)
    # The node's real sizes (so slurmd registers without being drained for "low" memory or
    # CPUs), as slurmd itself detects them.
    hw=$(slurmd -C 2>/dev/null | head -n 1 | sed -e 's/^NodeName=[^ ]* //')
    [ -n "$hw" ] || hw="CPUs=$(nproc) RealMemory=1000"
    cat > "$CLUSTER_DIR/slurm.conf" <<EOF
# Written by Tests/Slurm/cluster.sh: a private one-node cluster on loopback.
ClusterName=gatelabtest
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${CLUSTER_DIR}/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=${CLUSTER_DIR}/state
SlurmdSpoolDir=${CLUSTER_DIR}/spool/%n
SlurmctldPidFile=${CLUSTER_DIR}/run/slurmctld.pid
SlurmdPidFile=${CLUSTER_DIR}/run/slurmd.pid
SlurmctldLogFile=${CLUSTER_DIR}/log/slurmctld.log
SlurmdLogFile=${CLUSTER_DIR}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
InactiveLimit=0
KillWait=2
MinJobAge=300
MaxArraySize=1001
NodeName=${CLUSTER_NODE} NodeAddr=127.0.0.1 NodeHostname=${host} ${hw} State=UNKNOWN
PartitionName=debug Nodes=${CLUSTER_NODE} Default=YES MaxTime=INFINITE State=UP
EOF
}

# Starts munged, slurmctld and slurmd. Returns 0 when the node is idle, 2 when skipped
# (CLUSTER_SKIP_REASON), 1 on failure (logs printed, state kept).
cluster_start() {
    cluster_install || return $?
    if [ "$(id -u)" -ne 0 ]; then
        CLUSTER_SKIP_REASON="needs root to run slurmd (jobs run as their owner)"
        return 2
    fi
    local attempt
    for attempt in 1 2 3; do
        _cl_start_once && return 0
        local rc=$?
        # A port taken between choosing it and binding it: start over with new ports.
        if [ $rc -eq 3 ] && [ $attempt -lt 3 ]; then
            _cl_log "a port was taken; retrying with other ports"
            cluster_stop quiet
            continue
        fi
        _cl_tails
        cluster_stop keep
        return 1
    done
}

_cl_start_once() {
    CLUSTER_DIR=$(mktemp -d /tmp/gatelab-slurm.XXXXXX) || return 1
    chmod 700 "$CLUSTER_DIR"
    mkdir -p "$CLUSTER_DIR"/{munge,state,run,log} "$CLUSTER_DIR/spool/$CLUSTER_NODE"
    chmod 700 "$CLUSTER_DIR"/munge
    export CLUSTER_DIR
    _cl_log "state in $CLUSTER_DIR"

    # munge: its own key, socket, pid, log and seed files.
    local m="$CLUSTER_DIR/munge"
    if ! mungekey --create --keyfile="$m/munge.key" 2>"$CLUSTER_DIR/log/mungekey.log"; then
        dd if=/dev/urandom of="$m/munge.key" bs=1 count=1024 2>/dev/null || return 1
    fi
    chmod 600 "$m/munge.key"
    munged --foreground --force --socket="$m/munge.socket" --key-file="$m/munge.key" \
        --pid-file="$m/munged.pid" --log-file="$CLUSTER_DIR/log/munged.log" \
        --seed-file="$m/munged.seed" --num-threads=2 </dev/null >>"$CLUSTER_DIR/log/munged.out.log" 2>&1 &
    echo $! > "$CLUSTER_DIR/run/munged.ourpid"
    local i
    for i in $(seq 1 100); do
        [ -S "$m/munge.socket" ] && munge -n -S "$m/munge.socket" 2>/dev/null | unmunge -S "$m/munge.socket" >/dev/null 2>&1 && break
        _cl_ours "$(cat "$CLUSTER_DIR/run/munged.ourpid")" || { _cl_log "munged exited"; return 1; }
        sleep 0.1
    done
    [ "$i" -lt 100 ] || { _cl_log "munged did not answer on $m/munge.socket"; return 1; }

    local ports; ports=($(_cl_free_ports 2))
    [ ${#ports[@]} -eq 2 ] || { _cl_log "no free ports"; return 1; }
    _cl_write_conf "${ports[0]}" "${ports[1]}"
    export SLURM_CONF="$CLUSTER_DIR/slurm.conf"
    # Jobs submitted from here must not inherit an outer job's identity.
    unset SLURM_JOB_ID SLURM_JOBID SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT

    slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$CLUSTER_DIR/log/slurmctld.out.log" 2>&1 &
    echo $! > "$CLUSTER_DIR/run/slurmctld.ourpid"
    slurmd -D -N "$CLUSTER_NODE" -f "$SLURM_CONF" </dev/null >>"$CLUSTER_DIR/log/slurmd.out.log" 2>&1 &
    echo $! > "$CLUSTER_DIR/run/slurmd.ourpid"

    local deadline=$((SECONDS + CLUSTER_START_TIMEOUT)) state=""
    while [ $SECONDS -lt $deadline ]; do
        state=$(sinfo -h -o %T 2>/dev/null | head -n 1)
        [ "$state" = idle ] && { _cl_log "node $CLUSTER_NODE idle (ports ${ports[*]})"; return 0; }
        local d
        for d in slurmctld slurmd; do
            if ! _cl_ours "$(cat "$CLUSTER_DIR/run/$d.ourpid")"; then
                if grep -qiE 'address already in use|bind' "$CLUSTER_DIR/log/$d.log" "$CLUSTER_DIR/log/$d.out.log" 2>/dev/null; then
                    return 3
                fi
                _cl_log "$d exited during start-up"
                return 1
            fi
        done
        sleep 0.5
    done
    _cl_log "node not idle after ${CLUSTER_START_TIMEOUT}s (state: '${state}')"
    return 1
}

# Signals pid $1 (only if it is ours) with TERM, waits up to $2 s, then KILL. Returns 1 when
# KILL was needed.
_cl_kill() {
    local pid=$1 wait=$2 name=$3 i
    _cl_ours "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 $((wait * 10))); do
        _cl_ours "$pid" || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    _cl_log "$name (pid $pid) ignored TERM for ${wait}s: KILL"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}

# Processes (other than the daemons) that belong to this cluster: slurmstepd (it inherits
# slurmd's environment) and job processes (SLURM_JOB_ID set), both carrying our SLURM_CONF.
_cl_leftovers() {
    local p env
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$$" ] && continue
        env=$( { tr '\0' '\n' < "/proc/$p/environ"; } 2>/dev/null) || continue
        grep -qxF "SLURM_CONF=$CLUSTER_DIR/slurm.conf" <<<"$env" || continue
        if grep -q '^SLURM_JOB_ID=' <<<"$env" \
           || { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q '^slurmstepd'; then
            echo "$p"
        fi
    done
}

# Cancels this cluster's jobs and stops the daemons started here, by pid. Given "keep",
# leaves the state folder (logs) in place and prints its path; otherwise removes it.
cluster_stop() {
    local mode=${1:-}
    [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ] || return 0
    local forced=0 ctld slurmd munged
    ctld=$(cat "$CLUSTER_DIR/run/slurmctld.ourpid" 2>/dev/null)
    slurmd=$(cat "$CLUSTER_DIR/run/slurmd.ourpid" 2>/dev/null)
    munged=$(cat "$CLUSTER_DIR/run/munged.ourpid" 2>/dev/null)
    if _cl_ours "$ctld" && _cl_ours "$slurmd"; then
        local jobs; jobs=$(SLURM_CONF="$CLUSTER_DIR/slurm.conf" squeue -h -o %A 2>/dev/null)
        if [ -n "$jobs" ]; then
            SLURM_CONF="$CLUSTER_DIR/slurm.conf" scancel $jobs 2>/dev/null
            local i
            for i in $(seq 1 40); do
                [ -z "$(SLURM_CONF="$CLUSTER_DIR/slurm.conf" squeue -h -t R,CG,PD -o %A 2>/dev/null)" ] && break
                sleep 0.25
            done
        fi
    fi
    _cl_kill "$slurmd" 10 slurmd || forced=1
    _cl_kill "$ctld" 10 slurmctld || forced=1
    # Steps and job processes of this cluster that outlived slurmd (a cancelled job's
    # slurmstepd normally exits by itself within KillWait).
    local left i p
    for i in $(seq 1 20); do
        left=$(_cl_leftovers)
        [ -z "$left" ] && break
        sleep 0.25
    done
    for p in $left; do
        _cl_log "job process $p of this cluster still running: KILL"
        kill -KILL "$p" 2>/dev/null && forced=1
    done
    _cl_kill "$munged" 5 munged || forced=1
    if [ "$mode" = keep ] || [ $forced -eq 1 ]; then
        _cl_log "stopped; logs kept in $CLUSTER_DIR/log"
    else
        rm -rf "$CLUSTER_DIR"
        [ "$mode" = quiet ] || _cl_log "stopped"
    fi
    CLUSTER_DIR=""
    unset SLURM_CONF
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
        start)
            cluster_start; rc=$?
            if [ $rc -eq 2 ]; then echo "skipped: $CLUSTER_SKIP_REASON"; exit 77; fi
            [ $rc -eq 0 ] || exit 1
            echo "CLUSTER_DIR=$CLUSTER_DIR"
            echo "export SLURM_CONF=$SLURM_CONF"
            # The daemons are this shell's children; leave them running, detached.
            disown -a
            ;;
        stop)
            [ -n "${2:-}" ] || { echo "usage: $0 stop STATE_DIR" >&2; exit 2; }
            CLUSTER_DIR=${2%/}
            cluster_stop "${3:-}"
            ;;
        *)
            echo "usage: $0 start | stop STATE_DIR [keep]" >&2; exit 2 ;;
    esac
fi
