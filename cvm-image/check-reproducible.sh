#!/usr/bin/env bash
# Reproducibility check: two `build.sh --reproducible` runs from scratch (buildah store wiped,
# contexts re-staged with fresh mtimes) must give identical image IDs. Exit 0 and "reproducible"
# on the last stdout line when they do; exit 1 with both locks otherwise.
#
#   cvm-image/check-reproducible.sh [--rebuild-jars]
#
# --rebuild-jars also rebuilds both jars (mvn clean package) before the second build, so the check
# covers the jars' own reproducibility (project.build.outputTimestamp), not only the image layers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
rebuild_jars=false
[ "${1:-}" = --rebuild-jars ] && rebuild_jars=true
t0=$(date +%s)
locks=()
for run in 1 2; do
  rm -rf "$here/build/buildah" "$here/build/context/kms" "$here/build/context/auth-eth"
  if [ $run = 2 ]; then
    find "$here/build/context/jre" -exec touch {} +
    if $rebuild_jars; then
      (cd "$repo" && source .ci/jdk.sh && mvn -B -q -ntp -pl kms -am clean package -DskipTests -Dspotless.check.skip=true)
    fi
  fi
  IMAGES_LOCK="$here/build/repro-$run.lock" "$here/build.sh" --reproducible --tag "repro-$run" >/dev/null
  locks+=("$(cat "$here/build/repro-$run.lock")")
done
rm -rf "$here/build/buildah" "$here/build/repro-1.lock" "$here/build/repro-2.lock"
docker image rm -f cvm-kms/kms:repro-1 cvm-kms/kms:repro-2 cvm-kms/auth-eth:repro-1 cvm-kms/auth-eth:repro-2 >/dev/null 2>&1 || true
echo "run 1: ${locks[0]}"
echo "run 2: ${locks[1]}"
echo "time: $(( $(date +%s) - t0 )) s"
if [ "${locks[0]}" = "${locks[1]}" ]; then
  echo reproducible
else
  echo "NOT reproducible" >&2
  exit 1
fi
