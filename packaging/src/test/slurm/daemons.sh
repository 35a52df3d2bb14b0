# Sourced by the scripts that start test clusters of SLURM (single-node-cluster.sh,
# ../cluster/slurm-cluster.sh): daemons stopped by the process ids recorded when they started,
# polling, and munge. The sourcing script defines fail() and $dir, where records and logs go.

is_ours() { # pid name: the recorded process still runs that program (zombies count as gone)
  [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm")" = "$2" ] \
    && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

stop_recorded() { # file name: stops the process recorded in $dir/file if it still runs program name
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

check_can_start() { # fails unless root with SLURM's and munge's programs at hand
  [ "$(id -u)" = 0 ] || fail "needs root (it runs slurmd and munged)"
  for tool in munged slurmctld slurmd sbatch srun scontrol sinfo setsid setpriv; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (run packaging/provision-slurm.sh as root)"
  done
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

# Gives munge its directories and key as munged demands them, then starts the daemon (recorded in
# $dir/munged.pid) unless one already answers.
start_munge() {
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
}

# Prints the configuration lines every test cluster shares: daemons as root, no cgroups, no
# accounting, CPUs as the unit of allocation, nodes that may advertise more CPUs than they have.
shared_conf() {
  cat <<CONF
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
CONF
}
