#!/bin/sh
# Installs what the tests need on a fresh Debian machine: the real programs the integration tests
# start (only those missing), then the locked npm packages.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need prometheus-pushgateway prometheus-pushgateway
need promtool prometheus
need prometheus prometheus
need prometheus-node-exporter prometheus-node-exporter
need openssl openssl
need htpasswd apache2-utils
need systemd-analyze systemd
[ -x /usr/bin/time ] || missing="$missing time"
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Where systemd runs, Debian's packages start their services; the tests start their own instances.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi
npm ci --no-audit --no-fund
