#!/usr/bin/env bash
# Installs Chromium and Firefox ESR from Debian for the runtimes tests when they are missing
# (as root, or through sudo). The test tools drive these; they never download browsers.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
((${#missing[@]})) || exit 0
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the runtimes tests need ${missing[*]}; install them (Debian: apt-get install -y chromium firefox-esr)" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian for the runtimes tests"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
