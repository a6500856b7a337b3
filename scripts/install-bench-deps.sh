#!/usr/bin/env bash
# What the benchmarks compare against (never needed by the tests): sysstat's sadc, Prometheus'
# node_exporter (Debian packages) and psutil (PyPI, for the python3 on PATH).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
[ -x /usr/lib/sysstat/sadc ] || need+=(sysstat)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The Debian package starts a node_exporter service on :9100; the bench runs its own on loopback.
  $SUDO systemctl disable --now prometheus-node-exporter >/dev/null 2>&1 || true
  $SUDO pkill -x prometheus-node-exporter >/dev/null 2>&1 || true
fi
python3 -c 'import psutil' 2>/dev/null || python3 -m pip install --quiet psutil
