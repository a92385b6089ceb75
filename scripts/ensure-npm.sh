#!/usr/bin/env bash
# Installs Debian's npm when the machine has none: buf and the googleapis
# protos, which code generation and `make test`'s proto checks need, come from
# the npm registry.
set -euo pipefail
if command -v npm >/dev/null 2>&1; then exit 0; fi
echo "npm not found; installing Debian's npm package..."
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q npm
