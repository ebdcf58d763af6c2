#!/bin/sh
# Installs what the tests need on a fresh Debian machine: the real Prometheus programs the
# integration tests start (only when missing), then the locked npm packages.
set -eu
missing=""
command -v prometheus-pushgateway >/dev/null 2>&1 || missing="$missing prometheus-pushgateway"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Debian's packages start their services where systemd runs; the tests start their own instances.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi
npm ci --no-audit --no-fund
