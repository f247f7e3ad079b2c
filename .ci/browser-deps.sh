#!/usr/bin/env bash
# Chromium for the console's browser tests (tests/web, marked `browser`), from Debian's own
# packages (Playwright's browser download is not reachable from CI). Idempotent: installs
# only what is missing; libharfbuzz-subset0 is also what WeasyPrint needs for PDFs.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/lib/x86_64-linux-gnu/libharfbuzz-subset.so.0 ] || need+=(libharfbuzz-subset0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "browser-deps: missing ${need[*]} and not root; browser tests will skip" >&2
    exit 0
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
chromium --version 2>/dev/null || echo "browser-deps: no chromium; browser tests will skip" >&2
