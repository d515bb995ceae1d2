#!/bin/bash
# What the web page's browser test needs, installed once: Debian's chromium (apt) and
# puppeteer-core (npm) into <dir>/node_modules. Run by ctest as the fixture before
# integration_web_page; does nothing when both are there already.
set -euo pipefail
dir=${1:?usage: install-deps.sh <dir>}
if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium
fi
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/puppeteer-core" ]; then
  cd "$dir"
  [ -f package.json ] || echo '{"private": true}' > package.json
  npm install --no-audit --no-fund --loglevel=error puppeteer-core@24
fi
/usr/bin/chromium --version
