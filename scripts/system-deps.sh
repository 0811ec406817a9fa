#!/usr/bin/env bash
# Installs the system packages the tests need, only when missing: Chromium + CJK fonts, PostgreSQL, Redis
# (the streaming API's Redis pub/sub transport is tested against a real redis-server).
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || need+=(fonts-wqy-microhei)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v initdb >/dev/null 2>&1 || [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# axe-core (accessibility checks in the browser walk), pinned, from the npm registry into .cache/axe
AXE_VERSION=4.14.1
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ] || \
   ! grep -q "\"version\": \"$AXE_VERSION\"" .cache/axe/node_modules/axe-core/package.json 2>/dev/null; then
  echo "installing axe-core $AXE_VERSION (npm)"
  mkdir -p .cache/axe
  npm install --prefix .cache/axe --no-audit --no-fund --silent "axe-core@$AXE_VERSION" >/dev/null
fi

