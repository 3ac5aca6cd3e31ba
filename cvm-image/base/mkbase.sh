#!/usr/bin/env bash
# Builds the registry-free base image: a minimal Debian bookworm root made with debootstrap from
# Debian's packages, trimmed, tarred deterministically and imported as local/debian:bookworm.
#
#   cvm-image/base/mkbase.sh [--image NAME] [--mirror URL] [--rebuild]
#
# The rootfs tarball is cached in cvm-image/build/base/ (git-ignored); a second run only imports it.
# --rebuild discards the cache. SOURCE_DATE_EPOCH (default: 2026-01-01) fixes every mtime, so the
# same packages give the same tarball bytes and the same image ID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache="$here/../build/base"
image=local/debian:bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
rebuild=false
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --rebuild) rebuild=true; shift ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "mkbase.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
epoch=${SOURCE_DATE_EPOCH:-1767225600}
tarball="$cache/debian-bookworm-minbase.tar"
mkdir -p "$cache"
$rebuild && rm -f "$tarball"

if [ ! -s "$tarball" ]; then
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "mkbase: debootstrap --variant=minbase bookworm from $mirror" >&2
  debootstrap --variant=minbase --force-check-gpg bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # Trim what no container needs and what differs per build (caches, logs, machine id).
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/log/* "$root"/var/cache/ldconfig/aux-cache "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/usr/share/common-licenses "$root"/tmp/* "$root"/root/.cache "$root"/run/*
  find "$root"/usr/share/i18n/locales -mindepth 1 -maxdepth 1 ! -name 'C' -exec rm -rf {} + 2>/dev/null || true
  find "$root" -name '*.pyc' -delete
  : >"$root"/etc/machine-id
  printf 'deb %s bookworm main\n' "$mirror" >"$root"/etc/apt/sources.list
  # Keep man/doc/locale out when someone installs packages into a derived image.
  cat >"$root"/etc/dpkg/dpkg.cfg.d/01-cvm-kms-trim <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  tar --sort=name --mtime="@$epoch" --clamp-mtime --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$root"
  trap - EXIT
fi

echo "mkbase: importing $tarball as $image" >&2
docker import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$tarball" "$image" >/dev/null
docker image inspect -f '{{.Id}} {{.Size}}' "$image"
