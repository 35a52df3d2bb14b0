#!/bin/sh
# Installs what the tests' cluster of network namespaces needs (ClusterIT,
# packaging/src/test/cluster/namespace-cluster.sh): iproute2's ip, and util-linux's unshare and
# nsenter. Debian/Ubuntu, as root; elsewhere it says why and exits 0, and those tests are skipped
# with the same reason. Idempotent.
set -eu

log=${TMPDIR:-/tmp}/jmpipool-provision.log
say() { echo "provision-cluster: $*" >&2; }

if command -v ip >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "not root on a Debian-like system: the several-node tests will be skipped (install iproute2 to run them)"
  exit 0
fi
say "installing iproute2 and util-linux from the OS packages"
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iproute2 util-linux >>"$log" 2>&1
}
install || { apt-get update >>"$log" 2>&1 && install; } \
  || say "installing iproute2 failed (details in $log): the several-node tests will be skipped"
exit 0
