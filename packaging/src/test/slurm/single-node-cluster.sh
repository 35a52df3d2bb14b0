#!/bin/sh
# Starts or stops a real single-node SLURM cluster for the integration tests (SlurmIT): munged,
# slurmctld and slurmd from the OS packages (packaging/provision-slurm.sh installs them), run in
# the foreground under setsid, their state, logs and configuration in DIR. Root only.
#
#   single-node-cluster.sh start DIR   prints the SLURM_CONF to use once the node is idle
#   single-node-cluster.sh stop DIR    cancels the jobs left and stops the daemons it started,
#                                      by the process ids it recorded
#
# Each failure is one line on stderr and a non-zero status.
set -eu

fail() { echo "single-node-cluster: $*" >&2; exit 1; }
action=${1:-}
dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || fail "usage: $0 start|stop DIR"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/slurm.conf
export SLURM_CONF="$conf"

is_ours() { # pid name: the recorded process still runs that program (zombies count as gone)
  [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm")" = "$2" ] \
    && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

start_daemon() { # name command...: runs it under setsid, records its pid in DIR/name.pid
  name=$1
  shift
  setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

stop_daemon() { # name
  [ -f "$dir/$1.pid" ] || return 0
  pid=$(cat "$dir/$1.pid")
  if is_ours "$pid" "$1"; then
    kill "$pid" 2>/dev/null || true
    i=0
    while is_ours "$pid" "$1" && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    is_ours "$pid" "$1" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/$1.pid"
}

wait_for() { # seconds description command...: polls the command until it succeeds
  seconds=$1
  what=$2
  shift 2
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt $((seconds * 5)) ] || fail "$what did not happen within $seconds s (logs in $dir)"
    sleep 0.2
  done
}

node_idle() { [ "$(sinfo -h -N -o %T 2>/dev/null | head -n 1)" = idle ]; }
controller_up() { scontrol ping 2>/dev/null | grep -q UP; }
munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

case "$action" in
  start)
    [ "$(id -u)" = 0 ] || fail "needs root (it runs slurmd and munged)"
    for tool in munged slurmctld slurmd sbatch srun scontrol sinfo setsid setpriv; do
      command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (run packaging/provision-slurm.sh as root)"
    done
    node=$(hostname -s)
    getent hosts "$node" >/dev/null 2>&1 || echo "127.0.0.1 $node" >>/etc/hosts

    # munge: its directories and key as munged demands them, then the daemon unless one works
    mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    chmod 0755 /run/munge
    chmod 0700 /etc/munge /var/log/munge
    chmod 0711 /var/lib/munge
    [ -s /etc/munge/munge.key ] || setpriv --reuid=munge --regid=munge --init-groups mungekey -c >/dev/null 2>&1 \
      || fail "cannot create /etc/munge/munge.key"
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    if ! munge_works; then
      start_daemon munged setpriv --reuid=munge --regid=munge --init-groups munged -F
      wait_for 10 "munged answering" munge_works
    fi

    mkdir -p "$dir/state" "$dir/spool"
    memory=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
    cat >"$conf" <<CONF
ClusterName=jmpipool-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
MpiDefault=none
KillWait=20
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld-own.pid
SlurmdPidFile=$dir/slurmd-own.pid
SlurmctldLogFile=$dir/slurmctld-own.log
SlurmdLogFile=$dir/slurmd-own.log
SlurmctldPort=26817
SlurmdPort=26818
NodeName=$node NodeAddr=127.0.0.1 CPUs=4 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    start_daemon slurmctld slurmctld -D -i -f "$conf"
    wait_for 30 "slurmctld answering" controller_up
    start_daemon slurmd slurmd -D -f "$conf"
    wait_for 30 "the node becoming idle" node_idle
    echo "$conf"
    ;;
  stop)
    if [ -f "$conf" ] && controller_up; then
      scancel --full --quiet --partition=debug 2>/dev/null || true
    fi
    stop_daemon slurmd
    stop_daemon slurmctld
    stop_daemon munged
    ;;
  *)
    fail "unknown action '$action': start or stop"
    ;;
esac
