#!/bin/sh
# Installs a JDK (17 or later) and Maven when missing, from the OS packages (Debian/Ubuntu, as root).
set -eu
missing=""
command -v javac >/dev/null 2>&1 || missing="$missing openjdk-17-jdk-headless"
command -v mvn >/dev/null 2>&1 || missing="$missing maven"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "provision-build-tools: missing:$missing; install a JDK (17 or later) and Maven (3.6.3 or later)" >&2
  exit 1
fi
echo "provision-build-tools: installing$missing"
apt-get update >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null
