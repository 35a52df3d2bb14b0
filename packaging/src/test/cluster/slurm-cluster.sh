#!/bin/sh
# SLURM on a cluster of network namespaces (namespace-cluster.sh): slurmctld on node1, one slurmd
# on each node (NodeName = the node's host name, NodeAddr = its address), munged shared by all
# (its socket is a file every node sees). Daemons run in the foreground under setsid, inside
# their node's namespaces; their state, logs and configuration go in CLUSTER_DIR/slurm. Root only.
#
#   slurm-cluster.sh start CLUSTER_DIR   prints the SLURM_CONF to use once every node is idle
#   slurm-cluster.sh stop CLUSTER_DIR    cancels the jobs left and stops the daemons it started
#
# Taking the namespace cluster down also ends every daemon on its nodes; munged, in this
# machine's own namespaces, is stopped here if this script started it.
# Each failure is one line on stderr and a non-zero status.
set -eu

fail() { echo "slurm-cluster: $*" >&2; exit 1; }
action=${1:-}
cluster=${2:-}
[ -n "$action" ] && [ -n "$cluster" ] || fail "usage: $0 start|stop CLUSTER_DIR"
here=$(cd "$(dirname "$0")" && pwd)
nodes_script=$here/namespace-cluster.sh
dir=$cluster/slurm
mkdir -p "$dir"
conf=$dir/slurm.conf
export SLURM_CONF="$conf"
on_node1() { "$nodes_script" exec "$cluster" node1 "$@"; }

. "$here/../slurm/daemons.sh"

nodes() { ls "$cluster" | sed -n 's/^\(node[0-9]*\)\.holder$/\1/p' | sort -V; }
all_idle() { [ "$(on_node1 sinfo -h -N -o %T 2>/dev/null | sort -u)" = idle ]; }
controller_up() { on_node1 scontrol ping 2>/dev/null | grep -q UP; }

case "$action" in
  start)
    check_can_start
    [ -n "$(nodes)" ] || fail "no nodes recorded in $cluster"

    start_munge

    mkdir -p "$dir/state"
    memory=$(awk '/MemTotal/ { print int($2 / 1024 / 4) }' /proc/meminfo)
    {
      shared_conf
      cat <<CONF
ClusterName=jmpipool-nodes
SlurmctldHost=node1(10.231.0.1)
SlurmdTimeout=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool-%n
SlurmctldPidFile=$dir/slurmctld-own.pid
SlurmdPidFile=$dir/slurmd-%n-own.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd-%n.log
CONF
      for node in $(nodes); do
        echo "NodeName=$node NodeAddr=10.231.0.${node#node} CPUs=2 RealMemory=$memory State=UNKNOWN"
      done
      echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
    } >"$conf"
    # Not through on_node1: a function in the background is a subshell, whose pid is not the daemon's.
    "$nodes_script" exec "$cluster" node1 setsid slurmctld -D -i -f "$conf" >"$dir/slurmctld.out" 2>&1 </dev/null &
    echo $! >"$dir/slurmctld.pid"
    wait_for 30 "slurmctld answering" controller_up
    for node in $(nodes); do
      # The nodes share this machine's /tmp, where Slurm's PMIx plugin makes a directory per job
      # step, named the same on every node: each slurmd reads its own copy of the configuration
      # with an mpi.conf of its own beside it, which points that directory elsewhere.
      mkdir -p "$dir/spool-$node" "$dir/$node/pmix"
      cp "$conf" "$dir/$node/slurm.conf"
      echo "PMIxCliTmpDirBase=$dir/$node/pmix" >"$dir/$node/mpi.conf"
      "$nodes_script" exec "$cluster" "$node" setsid slurmd -D -f "$dir/$node/slurm.conf" >"$dir/slurmd-$node.out" 2>&1 \
        </dev/null &
      echo $! >"$dir/slurmd-$node.pid"
    done
    wait_for 30 "every node becoming idle" all_idle
    echo "$conf"
    ;;
  stop)
    if [ -f "$conf" ] && controller_up; then
      on_node1 scancel --full --quiet --partition=debug 2>/dev/null || true
    fi
    for node in $(nodes); do
      stop_recorded "slurmd-$node.pid" slurmd
    done
    stop_recorded slurmctld.pid slurmctld
    stop_recorded munged.pid munged
    ;;
  *)
    fail "unknown action '$action': start or stop"
    ;;
esac
