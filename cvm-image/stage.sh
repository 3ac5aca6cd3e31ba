#!/usr/bin/env bash
# Stages the docker build contexts for both images under OUT (default cvm-image/build/context):
#   OUT/jre/                 jlink runtime from the build JDK (runtime/jlink-modules.txt), cached
#   OUT/kms/{Dockerfile,jre/,kms.jar,kms.toml,state/}
#   OUT/auth-eth/{Dockerfile,jre/,auth-eth.jar}
# The jars must be built (kms/target/kms.jar, auth-eth/target/auth-eth.jar); build.sh does that.
# Used by build.sh and by the image integration tests, so both build exactly the same inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-$here/build/context}
# shellcheck source=/dev/null
source "$repo/.ci/jdk.sh"

kms_jar=$repo/kms/target/kms.jar
auth_jar=$repo/auth-eth/target/auth-eth.jar
for j in "$kms_jar" "$auth_jar"; do
  [ -f "$j" ] || { echo "stage.sh: $j is missing: build the jars first (cvm-image/build.sh does)" >&2; exit 1; }
done

modules=$(grep -v '^#' "$here/runtime/jlink-modules.txt" | grep -v '^\s*$' | paste -sd, -)
# Every module a jar needs must be in the runtime: a missing one would only fail in the CVM.
# jdeps takes a while on a fat jar, so its answer is kept per jar checksum.
mkdir -p "$out"
spec=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
for j in "$kms_jar" "$auth_jar"; do
  cache="$out/jdeps.$(basename "$j").txt"
  sum="$(sha256sum "$j" | cut -d' ' -f1) $spec"
  if [ "$(head -1 "$cache" 2>/dev/null)" = "$sum" ]; then
    needed=$(sed -n 2p "$cache")
  else
    needed=$(jdeps --multi-release "$spec" --ignore-missing-deps --print-module-deps "$j")
    printf '%s\n%s\n' "$sum" "$needed" >"$cache"
  fi
  for m in ${needed//,/ }; do
    case ",$modules," in *",$m,"*) ;; *) echo "stage.sh: $(basename "$j") needs module $m: add it to runtime/jlink-modules.txt" >&2; exit 1 ;; esac
  done
done

# The runtime depends on the JDK build and the module list only: rebuild when either changes.
stamp="$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.vm.version/{print $2}') $modules"
if [ ! -x "$out/jre/bin/java" ] || [ "$(cat "$out/jre.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$out/jre" "$out/jre.stamp"
  jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress=zip-6 --output "$out/jre"
  printf '%s\n' "$stamp" >"$out/jre.stamp"
fi

stage() { # service, jar, extra files...
  local svc=$1 jar=$2 d=$out/$1
  shift 2
  rm -rf "$d"
  mkdir -p "$d/state"
  cp "$here/$svc/Dockerfile" "$d/Dockerfile"
  cp -a "$out/jre" "$d/jre"
  cp "$jar" "$d/$(basename "$jar")"
  for f in "$@"; do cp "$f" "$d/"; done
}
stage kms "$kms_jar" "$here/kms/kms.toml"
stage auth-eth "$auth_jar"
rmdir "$out/auth-eth/state"
echo "$out"
