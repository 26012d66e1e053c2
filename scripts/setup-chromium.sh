#!/usr/bin/env bash
# Make sure a Chromium exists for the report page's browser test (tests marked integration
# open the page in headless Chromium through Playwright, which drives this browser instead
# of downloading its own). Installs Debian's `chromium` package with apt when missing.
set -euo pipefail
if command -v chromium > /dev/null || command -v chromium-browser > /dev/null; then
  exit 0
fi
if ! command -v apt-get > /dev/null; then
  echo "setup-chromium: no chromium and no apt-get: install Chromium yourself (or set PERSONASCOPE_CHROMIUM)" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium > /dev/null
