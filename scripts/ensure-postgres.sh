#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries when the machine has none and
# no DATABASE_URL says which PostgreSQL to use. make run and the test harness
# then start a private throwaway cluster with them.
set -euo pipefail
if [[ -n "${DATABASE_URL:-}" ]]; then exit 0; fi
if command -v pg_ctl >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then exit 0; fi
echo "PostgreSQL server binaries not found; installing Debian's postgresql package..."
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q postgresql
