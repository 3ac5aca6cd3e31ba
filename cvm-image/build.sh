#!/usr/bin/env bash
# Builds the CVM images cvm-kms/kms:TAG and cvm-kms/auth-eth:TAG into the local docker daemon and
# writes their image IDs to cvm-image/build/images.lock as {"kms": "sha256:…", "auth-eth": "sha256:…"}.
#
#   cvm-image/build.sh [--tag TAG] [--reproducible]
#
#   --tag TAG        image tag (default: dev)
#   --reproducible   build with buildah (--timestamp 0, vfs storage) instead of `docker build`:
#                    two builds of one commit give identical image IDs. The images are then copied
#                    into the docker daemon, and the lock holds the IDs docker reports for them.
#
# Builds the jars (mvn package, tests skipped) when missing, the base image local/debian:bookworm
# when missing (base/mkbase.sh), and stages the contexts with stage.sh. BASE=IMAGE overrides the
# base (e.g. a pinned public digest where a registry exists); IMAGES_LOCK=FILE writes the lock
# elsewhere (tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
tag=dev
reproducible=false
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || { echo "build.sh: --tag needs a value" >&2; exit 2; }; tag=$2; shift 2 ;;
    --reproducible) reproducible=true; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (usage: build.sh [--tag TAG] [--reproducible])" >&2; exit 2 ;;
  esac
done
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "build.sh: invalid tag '$tag'" >&2; exit 2; }
base=${BASE:-local/debian:bookworm}
t0=$(date +%s)

if [ ! -f "$repo/kms/target/kms.jar" ] || [ ! -f "$repo/auth-eth/target/auth-eth.jar" ]; then
  echo "build.sh: building the jars" >&2
  (cd "$repo" && source .ci/jdk.sh && mvn -B -q -ntp -pl kms -am package -DskipTests -Dspotless.check.skip=true)
fi
if [ "$base" = local/debian:bookworm ] && ! docker image inspect "$base" >/dev/null 2>&1; then
  "$here/base/mkbase.sh"
fi
ctx=$("$here/stage.sh" "$here/build/context")

if $reproducible; then
  # buildah's own store under build/ (overlay, as root; BUILDAH_DRIVER=vfs where overlay fails).
  store=(--root "$here/build/buildah/storage" --runroot "$here/build/buildah/run"
    --storage-driver "${BUILDAH_DRIVER:-overlay}")
  # The base comes from the docker daemon; buildah needs it in its own store under a local name.
  base_id=$(buildah "${store[@]}" pull -q "docker-daemon:$base")
  buildah "${store[@]}" tag "$base_id" localhost/cvm-kms-base:build
fi

declare -A ids
for svc in kms auth-eth; do
  ref=cvm-kms/$svc:$tag
  if $reproducible; then
    # Docker format (OCI has no HEALTHCHECK/STOPSIGNAL); no identity label, so the ID does not
    # depend on the buildah patch version.
    buildah "${store[@]}" bud -q --timestamp 0 --format docker --identity-label=false \
      --network host --pull=never --build-arg BASE=localhost/cvm-kms-base:build \
      -t "localhost/$ref" "$ctx/$svc" >/dev/null
    archive=$here/build/buildah/$svc.tar
    rm -f "$archive"
    buildah "${store[@]}" push -q "localhost/$ref" "docker-archive:$archive:$ref" >/dev/null
    "$here/runtime/normalize-archive.py" "$archive"
    docker load -q -i "$archive" >/dev/null
    # The archive also names buildah's local tag; keep only cvm-kms/SERVICE:TAG in the daemon.
    if docker image inspect "localhost/$ref" >/dev/null 2>&1; then
      docker image rm "localhost/$ref" >/dev/null
    fi
    rm -f "$archive"
  else
    docker build -q --network host --build-arg "BASE=$base" -t "$ref" "$ctx/$svc" >/dev/null
  fi
  ids[$svc]=$(docker image inspect -f '{{.Id}}' "$ref")
  echo "build.sh: $ref ${ids[$svc]} ($(docker image inspect -f '{{.Size}}' "$ref") bytes)" >&2
done

lock=${IMAGES_LOCK:-$here/build/images.lock}
mkdir -p "$(dirname "$lock")"
printf '{"kms": "%s", "auth-eth": "%s"}\n' "${ids[kms]}" "${ids[auth-eth]}" >"$lock.tmp"
mv "$lock.tmp" "$lock"
echo "build.sh: wrote $lock in $(( $(date +%s) - t0 )) s" >&2
cat "$lock"
