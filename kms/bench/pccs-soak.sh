#!/usr/bin/env bash
# The PCCS freeze soak (issue #13): the real jar (`kms dev --pccs-url`) with its PCCS behind a fault
# proxy; GetAppKey for a cached platform while the PCCS hangs, then answers 429. Writes
# docs/soak-pccs.md and docs/soak-pccs.png; exits non-zero when a pass criterion fails.
# Usage: kms/bench/pccs-soak.sh [--seconds 600]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds=600
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
cd "$root"
source .ci/jdk.sh
# Build the jars and run only PccsFreezeIT (no unit tests), reporting into docs/.
exec mvn -B -ntp -pl kms -am verify -Dspotless.check.skip=true \
  -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=PccsFreezeIT -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dpccs.freeze.seconds="$seconds" -Dpccs.freeze.docs="$root/docs" \
  -Dfailsafe.timeout=$((seconds + 600))
