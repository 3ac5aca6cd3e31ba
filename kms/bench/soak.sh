#!/usr/bin/env bash
# The freeze soak (the seed incident): anvil + our contracts, auth-eth behind a fault proxy, and
# `kms serve` with webhook auth; several clients poll GetMeta while the proxy answers 429, hangs
# and recovers. Writes docs/soak-getmeta.md and docs/soak-getmeta.png; exits non-zero when a pass
# criterion fails. Usage: kms/bench/soak.sh [--seconds 600]
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
if [ ! -x auth-eth/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ]; then
  npm install --prefix auth-eth --no-audit --no-fund --loglevel=error
fi
# Build the jars, then run only the soak IT with the requested length, reporting into docs/.
mvn -B -q -ntp -DskipTests -Dspotless.check.skip=true install -pl auth-eth,kms -am >&2
exec mvn -B -ntp -pl kms failsafe:integration-test failsafe:verify \
  -Dit.test=FreezeSoakIT -Dsoak.seconds="$seconds" -Dsoak.docs="$root/docs" -Dsoak.p99LimitMs=50 \
  -Dfailsafe.timeout=$((seconds + 600))
