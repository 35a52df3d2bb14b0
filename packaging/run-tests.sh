#!/bin/sh
# README's second command: the whole test suite (unit tests, then integration tests that start
# real MPI jobs through bin/jmpipool on Open MPI and on MPICH, on one node and spread over a
# cluster of network namespaces, and batch jobs on a single-node SLURM cluster the tests start
# themselves). Installs what is missing first, so it also runs on its own.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
packaging/provision-build-tools.sh
packaging/provision-mpi.sh
packaging/provision-mpich.sh
packaging/provision-slurm.sh
packaging/provision-cluster.sh
# As root the SLURM, MPICH and namespace packages are installed above, so a cluster that does not
# start, or an MPI configuration that cannot run, is a failure, not a reason to skip those tests.
require=false
[ "$(id -u)" = 0 ] && require=true
exec mvn -B --no-transfer-progress -Dstyle.color=never -Djmpipool.slurm.require=$require \
  -Djmpipool.configurations.require=$require -Djmpipool.cluster.require=$require verify
