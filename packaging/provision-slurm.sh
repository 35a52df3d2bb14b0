#!/bin/sh
# Installs what the SLURM integration tests need to run a real single-node cluster: munge,
# slurmctld, slurmd, the SLURM clients, and libpmix-dev (SLURM's PMIx plugin loads the
# unversioned libpmix.so only that package ships). Debian/Ubuntu, as root; elsewhere it says why
# and exits 0, and those tests are skipped with the same reason. The packages' scripts would
# start the daemons; a temporary policy-rc.d keeps them from it (the tests start their own).
# Idempotent.
set -eu

log=${TMPDIR:-/tmp}/jmpipool-provision.log
say() { echo "provision-slurm: $*" >&2; }

has_pmix() { ls /usr/lib/*/libpmix.so /usr/lib/libpmix.so 2>/dev/null | grep -q .; }
if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 \
    && command -v sbatch >/dev/null 2>&1 && has_pmix; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "not root on a Debian-like system: the SLURM tests will be skipped (install munge slurmctld slurmd slurm-client libpmix-dev to run them)"
  exit 0
fi
say "installing munge and SLURM from the OS packages"
created_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=yes
fi
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends munge slurmctld slurmd slurm-client libpmix-dev >>"$log" 2>&1
}
status=0
install || { apt-get update >>"$log" 2>&1 && install; } || status=$?
[ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
if [ "$status" != 0 ]; then
  say "installing the SLURM packages failed (details in $log): the SLURM tests will be skipped"
fi
exit 0
