#!/bin/sh
# README's first command: installs what is missing (JDK, Maven, Open MPI, and on Java 17 to 21
# its Java bindings), builds jmpipool, and runs the Monte Carlo pi example on 4 ranks.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
packaging/provision-build-tools.sh
# The Java bin/jmpipool runs the ranks on, as it picks it: on Java 22 and later they call the
# installed MPI library through java.lang.foreign, and Open MPI's Java bindings are not needed.
java=${JMPIPOOL_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/java}}
java=${java:-java}
feature=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
if [ "${feature:-0}" -ge 22 ]; then
  packaging/provision-mpi.sh --without-java-bindings
else
  packaging/provision-mpi.sh
fi
echo "quickstart: building (mvn install, tests skipped; the second README command runs them)"
mvn -B -q --no-transfer-progress -Dstyle.color=never install -DskipTests
root_option=""
[ "$(id -u)" = 0 ] && root_option=--allow-run-as-root
echo "quickstart: bin/jmpipool -n 4 $root_option org.jmpipool.examples.MonteCarloPi"
exec bin/jmpipool -n 4 $root_option org.jmpipool.examples.MonteCarloPi
