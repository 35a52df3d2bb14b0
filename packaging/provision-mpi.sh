#!/bin/sh
# Makes Open MPI and its Java bindings available to the build and to bin/jmpipool.
#
#   provision-mpi.sh [--without-java-bindings]
#
# - Installs Open MPI from the OS packages when mpirun is missing (Debian/Ubuntu, as root).
#   With --without-java-bindings that is all: ranks on Java 22 and later call the installed
#   library through java.lang.foreign and need no bindings.
# - Finds the bindings jar (mpi.jar) of exactly the installed Open MPI version: an existing one
#   ($JMPIPOOL_MPI_JAR, $MPI_HOME/lib, Open MPI's libdir, Fedora's openmpi-java), or else builds it
#   from the OS source package of that version (Debian does not package the jar).
# - Installs it into the local Maven repository as org.open-mpi:mpi:<version> and records the
#   version in .mvn/maven.config so that the build compiles against it.
# Idempotent: a second run finds everything in place and does nothing. Each failure is one line.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
m2_repo=${MAVEN_REPO:-$HOME/.m2/repository}
log=${TMPDIR:-/tmp}/jmpipool-provision.log

fail() { echo "provision-mpi: $*" >&2; exit 1; }
quiet() { "$@" >>"$log" 2>&1 || fail "'$*' failed (details in $log)"; }

is_debian_like() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }
as_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  as_root || fail "missing OS packages ($*): run 'sudo apt-get install $*' or run this script as root"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -n 1)" ]; then
    quiet apt-get update
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 \
    || { quiet apt-get update; DEBIAN_FRONTEND=noninteractive quiet apt-get install -y --no-install-recommends "$@"; }
}

# 1. Open MPI itself
if ! command -v mpirun >/dev/null 2>&1 || ! command -v ompi_info >/dev/null 2>&1; then
  is_debian_like || fail "Open MPI (mpirun, ompi_info) not found: install Open MPI 4.x or 5.0.x with Java bindings (Fedora: openmpi-java) and put its bin directory on PATH"
  echo "provision-mpi: installing Open MPI from the OS packages"
  apt_install openmpi-bin libopenmpi-dev
fi
version=$(ompi_info --version 2>/dev/null | sed -n 's/^Open MPI v\([0-9][0-9.]*\).*/\1/p' | head -n 1)
[ -n "$version" ] || fail "could not read the Open MPI version from 'ompi_info --version'"
if [ "${1:-}" = --without-java-bindings ]; then
  echo "provision-mpi: Open MPI $version installed (no Java bindings: the ranks call its library through java.lang.foreign)"
  exit 0
fi

jar_in_repo="$m2_repo/org/open-mpi/mpi/$version/mpi-$version.jar"

record_version() {
  "$top/packaging/record-maven-property.sh" mpi.version "$version"
}

# Lays the jar out as Maven's install would (jar and pom), so that neither the build nor
# bin/jmpipool needs anything else to find it.
maven_install() {
  dir=$(dirname "$jar_in_repo")
  mkdir -p "$dir"
  cp "$1" "$jar_in_repo.tmp" && mv "$jar_in_repo.tmp" "$jar_in_repo"
  cat > "${jar_in_repo%.jar}.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.open-mpi</groupId>
  <artifactId>mpi</artifactId>
  <version>$version</version>
  <description>Open MPI $version Java bindings, installed by jmpipool's provision-mpi.sh</description>
</project>
POM
}

if [ -f "$jar_in_repo" ]; then
  record_version
  echo "provision-mpi: Open MPI $version bindings already installed ($jar_in_repo)"
  exit 0
fi

# 2. An existing bindings jar
libdir=$(ompi_info --path libdir --parsable 2>/dev/null | sed -n 's/^path:libdir://p' | head -n 1)
for candidate in "${JMPIPOOL_MPI_JAR:-}" "${MPI_HOME:+$MPI_HOME/lib/mpi.jar}" "${libdir:+$libdir/mpi.jar}" \
                 /usr/lib64/openmpi/lib/mpi.jar /usr/lib/openmpi/lib/mpi.jar; do
  if [ -n "$candidate" ] && [ -f "$candidate" ]; then
    maven_install "$candidate"
    record_version
    echo "provision-mpi: installed $candidate as org.open-mpi:mpi:$version"
    exit 0
  fi
done

# 3. Build the jar from the OS source package of exactly this version
is_debian_like || fail "no mpi.jar for Open MPI $version: install your distribution's Open MPI Java package, or set JMPIPOOL_MPI_JAR"
pkg_version=$(dpkg-query -W -f '${source:Version}' libopenmpi3 2>/dev/null || true)
[ -n "$pkg_version" ] || fail "Open MPI $version was not installed from the OS packages: point JMPIPOOL_MPI_JAR at its mpi.jar"
command -v javac >/dev/null 2>&1 || fail "javac not found: install a JDK (17 or later)"

if ! apt-cache showsrc openmpi 2>/dev/null | grep -q "^Version: $pkg_version\$"; then
  as_root || fail "source packages are not enabled: run this script as root once, or enable deb-src for your release"
  sources=/etc/apt/sources.list.d/jmpipool-deb-src.sources
  # Same mirrors and suites as the binary entries, for source packages only.
  awk 'BEGIN{RS=""; ORS="\n\n"} /Types:[^\n]*deb/ && !/deb-src/ {sub(/Types:[^\n]*/, "Types: deb-src"); print}' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null > "$sources.tmp" || true
  if [ ! -s "$sources.tmp" ] && [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > "${sources%.sources}.list"
  else
    mv "$sources.tmp" "$sources"
  fi
  rm -f "$sources.tmp"
  echo "provision-mpi: enabling OS source packages to build the Open MPI $version Java bindings"
  quiet apt-get update
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/jmpipool-mpijar.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "provision-mpi: building mpi.jar from the openmpi $pkg_version source package"
(cd "$work" && quiet apt-get source --download-only "openmpi=$pkg_version")
orig=$(ls "$work"/openmpi_*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || fail "the openmpi $pkg_version source package has no orig tarball"
quiet tar -xf "$orig" -C "$work" --wildcards '*/ompi/mpi/java/java/*.java'
src=$(ls -d "$work"/*/ompi/mpi/java/java | head -n 1)
mkdir -p "$work/classes"
quiet javac -nowarn -encoding UTF-8 --release 8 -d "$work/classes" "$src"/*.java
printf 'Implementation-Title: Open MPI Java bindings\nImplementation-Version: %s\n' "$version" > "$work/manifest"
quiet jar --create --file "$work/mpi.jar" --manifest "$work/manifest" -C "$work/classes" .
maven_install "$work/mpi.jar"
record_version
echo "provision-mpi: installed Open MPI $version bindings as org.open-mpi:mpi:$version"
