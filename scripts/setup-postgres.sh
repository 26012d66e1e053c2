#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the PostgreSQL and Ray tests (they start
# their own throw-away server on a loopback port; nothing is configured system-wide).
# Installs Debian's `postgresql` package with apt when missing.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || command -v initdb > /dev/null; then
  exit 0
fi
if ! command -v apt-get > /dev/null; then
  echo "setup-postgres: no PostgreSQL server and no apt-get: install PostgreSQL (initdb, pg_ctl) yourself" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends postgresql > /dev/null
# Debian starts a system cluster on port 5432; the tests do not use it.
