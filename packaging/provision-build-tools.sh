#!/bin/sh
# Installs a JDK (17 or later) and Maven when missing, from the OS packages (Debian/Ubuntu, as root),
# and finds a JDK 22 or later for the transport over the installed MPI library (java.lang.foreign):
# $JMPIPOOL_JDK22, else the newest of $JAVA_HOME, the javac on PATH and those under /usr/lib/jvm.
# It is recorded for the build in
# .mvn/maven.config (-Djmpipool.jdk22=...); without one, that transport is not built.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
missing=""
command -v javac >/dev/null 2>&1 || missing="$missing openjdk-17-jdk-headless"
command -v mvn >/dev/null 2>&1 || missing="$missing maven"
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "provision-build-tools: missing:$missing; install a JDK (17 or later) and Maven (3.6.3 or later)" >&2
    exit 1
  fi
  echo "provision-build-tools: installing$missing"
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null
fi

# The feature version of a JDK home (25 for 25.0.3), or nothing when it is not a JDK.
feature() {
  [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}

jdk22=""
path_jdk=""
if command -v javac >/dev/null 2>&1; then
  path_jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
fi
for home in ${JMPIPOOL_JDK22:-} ${JAVA_HOME:-} $path_jdk /usr/lib/jvm/*; do
  [ -d "$home" ] || continue
  version=$(feature "$home")
  if [ -n "$version" ] && [ "$version" -ge 22 ] && { [ -z "$jdk22" ] || [ "$version" -gt "$(feature "$jdk22")" ]; }; then
    jdk22=$home
    [ -n "${JMPIPOOL_JDK22:-}" ] && break
  fi
done
if [ -n "$jdk22" ]; then
  "$top/packaging/record-maven-property.sh" jmpipool.jdk22 "$(cd "$jdk22" && pwd -P)"
else
  echo "provision-build-tools: no JDK 22 or later found (set JMPIPOOL_JDK22): the transport over the installed MPI library is not built"
fi
