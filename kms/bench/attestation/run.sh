#!/usr/bin/env bash
# Attestation verification benchmark. Usage: kms/bench/attestation/run.sh [--quick]
# Builds the kms module's classes, then runs VerifyBench.java (a single-file Java program) on the
# module's runtime classpath. Prints a Markdown table; docs/bench-attestation.md has a recorded run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"
source .ci/jdk.sh
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -o -pl kms compile dependency:build-classpath -Dmdep.outputFile="$cp_file" >&2
exec java -Xms512m -Xmx512m -XX:+UseParallelGC -cp "kms/target/classes:$(cat "$cp_file")" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dlogback.configurationFile=/dev/null \
  "$here/VerifyBench.java" kms/src/test/resources/attestation "$@"
