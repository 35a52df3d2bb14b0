#!/bin/sh
# Starts or stops a real single-node SLURM cluster for the integration tests (SlurmIT): munged,
# slurmctld and slurmd from the OS packages (packaging/provision-slurm.sh installs them), run in
# the foreground under setsid, their state, logs and configuration in DIR. Root only.
#
#   single-node-cluster.sh start DIR   prints the SLURM_CONF to use once the node is idle
#   single-node-cluster.sh stop DIR    cancels the jobs left and stops the daemons it started,
#                                      by the process ids it recorded
#
# The node advertises 6 CPUs (the machine may have fewer): two 3-task jobs fit at once.
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

. "$(dirname "$0")/daemons.sh"

start_daemon() { # name command...: runs it under setsid, records its pid in DIR/name.pid
  name=$1
  shift
  setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

node_idle() { [ "$(sinfo -h -N -o %T 2>/dev/null | head -n 1)" = idle ]; }
controller_up() { scontrol ping 2>/dev/null | grep -q UP; }

case "$action" in
  start)
    check_can_start
    node=$(hostname -s)
    getent hosts "$node" >/dev/null 2>&1 || echo "127.0.0.1 $node" >>/etc/hosts

    start_munge

    mkdir -p "$dir/state" "$dir/spool"
    memory=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)
    {
      shared_conf
      cat <<CONF
ClusterName=jmpipool-test
SlurmctldHost=$node(127.0.0.1)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld-own.pid
SlurmdPidFile=$dir/slurmd-own.pid
SlurmctldLogFile=$dir/slurmctld-own.log
SlurmdLogFile=$dir/slurmd-own.log
SlurmctldPort=26817
SlurmdPort=26818
NodeName=$node NodeAddr=127.0.0.1 CPUs=6 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    } >"$conf"
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
    stop_recorded slurmd.pid slurmd
    stop_recorded slurmctld.pid slurmctld
    stop_recorded munged.pid munged
    ;;
  *)
    fail "unknown action '$action': start or stop"
    ;;
esac
