#!/usr/bin/env bash
# Docker for the cvm-image tests: Debian's packages when missing, a dockerd without bridge or
# iptables (containers use host networking only) when none answers, and the registry-free base
# image local/debian:bookworm when missing. Idempotent: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log=${DOCKERD_LOG:-/var/log/cvm-kms-dockerd.log}
  echo "starting dockerd (log: $log)" >&2
  # setsid: the daemon outlives this script and is not in CI's process group.
  setsid dockerd --bridge=none --iptables=false --ip-masq=false >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not come up within 60 s; see $log" >&2; tail -20 "$log" >&2; exit 1; }
fi

docker image inspect local/debian:bookworm >/dev/null 2>&1 || cvm-image/base/mkbase.sh
