#!/usr/bin/env bash
# Before npm test: the dashboard tests drive Debian's Chromium, the deployment tests run
# systemd-analyze. Install them when missing (as root, with apt), or say what is needed.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v systemd-analyze >/dev/null || missing+=(systemd)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test tools: ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "npm test needs: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
