#!/bin/bash
# Integration test against a real single-node Slurm (Debian's slurmctld, slurmd, slurm-client and
# munge; the recipe of ../shared/slurm): starts the daemons, runs a small study once unsharded
# and once through `sonde slurm --submit` with 3 shards (a job array per level, then the merge
# job), checks that results.json and report.html are byte-identical, and stops what it started.
# Usage (as root): bash Tests/Slurm/cluster-test.sh PATH/TO/sonde
# Exit 0: passed; 77: cannot run here (the reason on stdout); anything else: failed.
set -euo pipefail
sonde=$(readlink -f "$1")
repository=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "skip: starting slurmctld, slurmd and munged needs root"; exit 77; }
for b in slurmctld slurmd sbatch squeue scontrol sinfo munged mungekey; do
    command -v "$b" >/dev/null || { echo "skip: $b is not installed (apt-get install slurmctld slurmd slurm-client munge)"; exit 77; }
done
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then echo "skip: a Slurm daemon is already running here"; exit 77; fi

# Test runners hand their children SIGTERM blocked, and a daemon inherits that mask: start the
# daemons with an empty one, so that they stop when told to. (It execs: call it in a subshell
# or in the background, where $! is then the daemon itself.)
unblocked() {
    if command -v python3 >/dev/null; then
        exec python3 -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
    else
        exec "$@"
    fi
}

work=$(mktemp -d /tmp/sonde-slurm.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/state" "$work/spool"
started=()
stop() {
    set +e
    # slurmd first, then slurmctld, then munged (the reverse of their start); a daemon that does
    # not end within 10 s of SIGTERM is killed.
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        pid=${started[$i]}
        kill "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap stop EXIT

# munge: a key, its run folder (systemd would make it), the daemon as the munge user.
[ -s /etc/munge/munge.key ] || mungekey -c -k /etc/munge/munge.key
chown munge:munge /etc/munge/munge.key
install -d -o munge -g munge /run/munge
if ! pgrep -x munged >/dev/null; then
    (unblocked runuser -u munge -- munged) || { echo "skip: munged did not start here"; exit 77; }
    started+=("$(cat /run/munge/munged.pid)")
fi
host=$(hostname -s)
mkdir -p /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=sonde-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,kill_invalid_depend
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(free -m | awk '/^Mem:/{print int($2*.9)}')
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
unblocked slurmctld -D -i >"$work/ctld.out" 2>&1 &
started+=($!)
unblocked slurmd -D >"$work/slurmd.out" 2>&1 &
started+=($!)
for _ in $(seq 240); do sinfo -ho %t 2>/dev/null | grep -qx idle && break; sleep 0.25; done
# A cluster that cannot start here is this machine's problem, not Sonde's: skip, with the logs.
sinfo -ho %t | grep -qx idle || { echo "skip: the Slurm node never became idle here"; tail -n 5 "$work/ctld.out" "$work/slurmd.out"; exit 77; }

sed "s|@CORPUS@|$repository/corpora/default.conllu|" "$repository/Tests/Slurm/study.toml" > "$work/study.toml"
"$sonde" run "$work/study.toml" >/dev/null 2>&1
mkdir "$work/expected"
mv "$work/out/results.json" "$work/out/report.html" "$work/expected/"
rm -rf "$work/out"

"$sonde" slurm "$work/study.toml" --out "$work/jobs" --array 3 --submit | tee "$work/submitted.txt"
merge=$(sed -n 's/^merge job \([0-9]*\).*/\1/p' "$work/submitted.txt")
[ -n "$merge" ] || { echo "FAIL: no merge job id"; exit 1; }
for _ in $(seq 1200); do [ -z "$(squeue -h -j "$merge" 2>/dev/null)" ] && break; sleep 0.25; done
state=$(scontrol -o show job "$merge" | grep -oE 'JobState=[A-Z]+' || true)
if [ "$state" != "JobState=COMPLETED" ]; then
    echo "FAIL: merge job $merge: $state"
    tail -n 20 "$work"/jobs/logs/*.out
    exit 1
fi
cmp "$work/expected/results.json" "$work/out/results.json"
cmp "$work/expected/report.html" "$work/out/report.html"
echo "OK: $(grep -c . "$work/submitted.txt") jobs; the merged results equal the unsharded run's, byte for byte"
