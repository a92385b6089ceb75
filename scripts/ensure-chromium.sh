#!/usr/bin/env bash
# Installs Debian's Chromium when the machine has none: the website's
# browser test (web/internal/browsertest), make screenshots and
# scripts/lighthouse.sh drive it headless. CHROMIUM names another binary.
set -euo pipefail
if [[ -n "${CHROMIUM:-}" ]]; then exit 0; fi
if [[ -x /usr/bin/chromium ]] || command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "Chromium not found; installing Debian's chromium package (about two minutes)..."
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
