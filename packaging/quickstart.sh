#!/bin/sh
# README's first command: installs what is missing (JDK, Maven, Open MPI and its Java bindings),
# builds jmpipool, and runs the Monte Carlo pi example on 4 ranks.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
packaging/provision-build-tools.sh
packaging/provision-mpi.sh
echo "quickstart: building (mvn install, tests skipped; the second README command runs them)"
mvn -B -q --no-transfer-progress -Dstyle.color=never install -DskipTests
root_option=""
[ "$(id -u)" = 0 ] && root_option=--allow-run-as-root
echo "quickstart: bin/jmpipool -n 4 $root_option org.jmpipool.examples.MonteCarloPi"
exec bin/jmpipool -n 4 $root_option org.jmpipool.examples.MonteCarloPi
