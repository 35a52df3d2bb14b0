#!/bin/sh
# Installs Debian's MPICH (Hydra's mpiexec.hydra and libmpich.so.12) next to Open MPI, for the
# tests that run every suite on the MPICH family too, through the ffm transport. Debian/Ubuntu,
# as root; elsewhere it says why and exits 0, and those tests are skipped with the same reason.
# Installing it may repoint the plain mpirun/mpiexec alternatives: jmpipool names each family's
# launcher itself (mpirun.openmpi, mpiexec.hydra). Idempotent.
set -eu

log=${TMPDIR:-/tmp}/jmpipool-provision.log
say() { echo "provision-mpich: $*" >&2; }

if command -v mpiexec.hydra >/dev/null 2>&1 && ls /usr/lib/*/libmpich.so.12 >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "not root on a Debian-like system: the MPICH tests will be skipped (install the mpich package to run them)"
  exit 0
fi
say "installing MPICH from the OS packages"
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mpich >>"$log" 2>&1
}
install || { apt-get update >>"$log" 2>&1 && install; } \
  || say "installing MPICH failed (details in $log): the MPICH tests will be skipped"
exit 0
