#!/usr/bin/env bash
# System packages the tests need: OpenSSH (a real sshd on loopback serves the remote tests),
# Debian's Chromium (the report's browser tests drive /usr/bin/chromium with playwright-core;
# Playwright's own browser downloads are never used), and Prometheus, VictoriaMetrics and
# node_exporter (the Prometheus tests start their own on loopback; the packages' services are
# not used). Idempotent: installs only what is missing.
set -euo pipefail
need=()
if ! { [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null && command -v ssh >/dev/null; }; then
  need+=(openssh-server openssh-client)
fi
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/prometheus ] || need+=(prometheus)
[ -x /usr/bin/victoria-metrics ] || need+=(victoria-metrics)
[ -x /usr/bin/prometheus-node-exporter ] || need+=(prometheus-node-exporter)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
