#!/bin/sh
# Sets one -Dname=value line in .mvn/maven.config (the provisioning scripts' findings, which the
# build reads), keeping the lines other scripts wrote.
#   record-maven-property.sh NAME VALUE
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
config="$top/.mvn/maven.config"
mkdir -p "$top/.mvn"
touch "$config"
grep -v "^-D$1=" "$config" > "$config.tmp" || true
echo "-D$1=$2" >> "$config.tmp"
mv "$config.tmp" "$config"
