#!/bin/sh
# Installs what the tests need on a fresh Debian machine: the real programs the integration tests
# start and the packaging tools (only those missing), then the locked npm packages.
set -eu
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
# A package without a command to look for: ask dpkg.
need_package() {
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null)" = installed ] || missing="$missing $1"
}
need prometheus-pushgateway prometheus-pushgateway
need promtool prometheus
need prometheus prometheus
need prometheus-node-exporter prometheus-node-exporter
need victoria-metrics victoria-metrics
need vmagent victoria-metrics
need vmalert victoria-metrics
need openssl openssl
need htpasswd apache2-utils
need systemd-analyze systemd
need git git
need curl curl
[ -x /usr/bin/time ] || missing="$missing time"
# The Debian package: built with dpkg-deb, checked with lintian, installed with apt-get.
need dpkg-deb dpkg
need lintian lintian
need fakeroot fakeroot
# arm64 Node under emulation: qemu, and the arm64 loader and libraries it runs against.
need qemu-aarch64-static qemu-user-static
need_package libc6-arm64-cross
need_package libstdc++6-arm64-cross
need_package libgcc-s1-arm64-cross
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Where systemd runs, Debian's packages start their services; the tests start their own instances.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi
npm ci --no-audit --no-fund
