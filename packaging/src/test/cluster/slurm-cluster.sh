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

is_ours() { # pid name: the recorded process still runs that program (zombies count as gone)
  [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm")" = "$2" ] \
    && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

stop_daemon() { # file name: stops the process recorded in DIR/file if it still runs program name
  [ -f "$dir/$1" ] || return 0
  pid=$(cat "$dir/$1")
  if is_ours "$pid" "$2"; then
    kill "$pid" 2>/dev/null || true
    i=0
    while is_ours "$pid" "$2" && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    is_ours "$pid" "$2" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/$1"
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

nodes() { ls "$cluster" | sed -n 's/^\(node[0-9]*\)\.holder$/\1/p' | sort -V; }
all_idle() { [ "$(on_node1 sinfo -h -N -o %T 2>/dev/null | sort -u)" = idle ]; }
controller_up() { on_node1 scontrol ping 2>/dev/null | grep -q UP; }
munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

case "$action" in
  start)
    [ "$(id -u)" = 0 ] || fail "needs root (it runs slurmd and munged)"
    for tool in munged slurmctld slurmd sbatch srun scontrol sinfo setsid setpriv; do
      command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (run packaging/provision-slurm.sh as root)"
    done
    [ -n "$(nodes)" ] || fail "no nodes recorded in $cluster"

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
      setsid setpriv --reuid=munge --regid=munge --init-groups munged -F >"$dir/munged.log" 2>&1 </dev/null &
      echo $! >"$dir/munged.pid"
      wait_for 10 "munged answering" munge_works
    fi

    mkdir -p "$dir/state"
    memory=$(awk '/MemTotal/ { print int($2 / 1024 / 4) }' /proc/meminfo)
    {
      cat <<CONF
ClusterName=jmpipool-nodes
SlurmctldHost=node1(10.231.0.1)
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
    on_node1 setsid slurmctld -D -i -f "$conf" >"$dir/slurmctld.out" 2>&1 </dev/null &
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
      stop_daemon "slurmd-$node.pid" slurmd
    done
    stop_daemon slurmctld.pid slurmctld
    stop_daemon munged.pid munged
    ;;
  *)
    fail "unknown action '$action': start or stop"
    ;;
esac
