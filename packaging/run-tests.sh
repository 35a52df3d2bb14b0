#!/bin/sh
# README's second command: the whole test suite (unit tests, then integration tests that start
# real MPI jobs through bin/jmpipool). Installs what is missing first, so it also runs on its own.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
packaging/provision-build-tools.sh
packaging/provision-mpi.sh
exec mvn -B --no-transfer-progress -Dstyle.color=never verify
