#!/usr/bin/env bash
# GetAppKey benchmark with its physical floor, in one run:
#  1. F: the per-request work no implementation can avoid (two P-256 verifications, the key
#     derivation, the server's TLS record work), measured in-process with the server's JVM flags
#     (kms/bench/appkey/FloorBench.java);
#  2. end to end over HTTPS on loopback with RA-TLS client certificates (temp CA from GetTempCaCert,
#     mock TDX attestation bound to each client key) against `kms dev`, at each connection count, in
#     keep-alive mode (TLS once per client) and handshake mode (a new TLS 1.3 connection per
#     request), with the server's RSS sampled during the runs.
# Writes the report (default docs/bench-kms-getappkey.md) and prints as its last stdout line
#   floor_ms=<F> cores=<C> keepalive_rps=<R at the largest count> ratio=<R / (C*1000/F)>
#
# Usage: kms/bench/appkey.sh [--duration 20] [--connections "1 4 16"] [--out FILE]
#          [--baseline-jar FILE] [--profile] [--get-keys N]
#   --baseline-jar  also load a kms.jar of other code (e.g. built from an older commit in a temp
#                   worktree outside the repo) at the largest count, same flags, same run
#   --get-keys N    also time N calls of `kms/bin/kms get-keys` (JVM start included) against the
#                   server after the load runs (and of `java -jar` of the baseline jar)
#   --profile       record JFR (execution and allocation samples) on the server during the
#                   runs at the largest count (both modes) and add the stage profiles to the report
# With --profile, $KMS_BENCH_JFR_DIR (a directory) keeps the recordings for a closer look.
# Server JVM flags: $KMS_BENCH_JVM_FLAGS, default "-XX:MaxRAM=1g -XX:+UseSerialGC": what JVM
# ergonomics pick in a 2-vCPU, 1 GiB CVM (serial GC, max heap 1/4 of RAM = 256 MiB).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
duration=20
conns="1 4 16"
out="$root/docs/bench-kms-getappkey.md"
baseline=""
profile=0
getkeys=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --baseline-jar) baseline=$2; shift 2 ;;
    --profile) profile=1; shift ;;
    --get-keys) getkeys=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$getkeys" in '' | *[!0-9]*) echo "--get-keys takes a count" >&2; exit 2 ;; esac
case "$duration" in '' | *[!0-9]*) echo "--duration must be whole seconds" >&2; exit 2 ;; esac
[ "$duration" -ge 1 ] || { echo "--duration must be at least 1" >&2; exit 2; }
for c in $conns; do
  case "$c" in '' | *[!0-9]* | 0) echo "--connections takes positive integers" >&2; exit 2 ;; esac
done
largest=$(printf '%s\n' $conns | sort -n | tail -1)
[ -n "$largest" ] || { echo "--connections is empty" >&2; exit 2; }
[ -z "$baseline" ] || [ -f "$baseline" ] || { echo "no such jar: $baseline" >&2; exit 2; }

source "$root/.ci/jdk.sh"
# The load comes from one address, far above the per-client rate limit: a benchmark of the
# service, not of the limiter (bench/faults.sh measures that). kms dev reads this variable.
export KMS__RATE_LIMIT__ENABLED=false
jar="${KMS_JAR:-$root/kms/target/kms.jar}"
[ -f "$jar" ] || (cd "$root" && mvn -B -q -ntp -pl kms -am package -DskipTests -Dspotless.check.skip=true >&2)
flags="${KMS_BENCH_JVM_FLAGS:--XX:MaxRAM=1g -XX:+UseSerialGC}"
cores=$(nproc)
warmup=$((duration < 5 ? duration : 5))

work=$(mktemp -d)
pid=""
sampler=""
stop_kms() {
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""; fi
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi
}
cleanup() { stop_kms; rm -rf "$work"; }
trap cleanup EXIT

"$JAVA_HOME/bin/javac" -d "$work/bench" -cp "$jar" \
  "$root/kms/bench/appkey/AppKeyBench.java" "$root/kms/bench/appkey/FloorBench.java"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_kms JAR NAME [extra JVM flags...]: kms dev on a fresh state dir; sets pid, port, state
start_kms() {
  local j=$1 name=$2
  shift 2
  port=$(free_port)
  state="$work/$name-state"
  # shellcheck disable=SC2086
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED $flags "$@" -jar "$j" dev \
    --state-dir "$state" --port "$port" >"$work/$name.stdout" 2>"$work/$name.stderr" &
  pid=$!
  for _ in $(seq 1 600); do
    if curl -fsS --cacert "$state/root-ca.crt" "https://localhost:$port/healthz/ready" >/dev/null 2>&1; then
      # the start-up line names the TLS engine (code before it had only the JDK's)
      grep -ho 'tls [a-z]*,' "$work/$name.stdout" "$work/$name.stderr" 2>/dev/null | head -1 \
        | sed 's/tls \(.*\),/\1/' >"$work/tls-engine-$name" || true
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "kms exited; log:" >&2; cat "$work/$name.stderr" >&2; exit 1; }
    sleep 0.1
  done
  echo "kms did not become ready in 60 s" >&2
  exit 1
}

# Samples the server's RSS (KiB) every 200 ms into $1 until killed.
sample_rss() {
  while kill -0 "$pid" 2>/dev/null; do
    awk '/VmRSS/{print $2}' /proc/"$pid"/status 2>/dev/null >>"$1" || true
    sleep 0.2
  done
}

# load MODE CONNECTIONS SECONDS: one result line (keep-alive: AppKeyBench; handshake:
# appkey/handshake.py with client certificates AppKeyBench exported for this server's temp CA)
load() {
  if [ "$1" = handshake ]; then
    local certs="$work/certs-$port"
    if [ ! -f "$certs/c$(($2 - 1)).crt" ]; then
      rm -rf "$certs" && mkdir -p "$certs"
      "$JAVA_HOME/bin/java" -Xmx512m -cp "$work/bench:$jar" AppKeyBench "$port" "$state/root-ca.crt" \
        export "$2" 1 "$certs" >/dev/null
    fi
    python3 "$root/kms/bench/appkey/handshake.py" "$port" "$certs" "$2" "$3"
    return
  fi
  "$JAVA_HOME/bin/java" -Xmx512m -cp "$work/bench:$jar" AppKeyBench "$port" "$state/root-ca.crt" "$@"
}

# time_get_keys LABEL N CMD...: N calls of get-keys against the running server; one table row
# (first call apart: it may write the class-data archive), wall ms from fork to exit
time_get_keys() {
  local label=$1 n=$2
  shift 2
  local times=() first="" t0 t1 i failed=0
  for i in $(seq 1 "$n"); do
    t0=$(date +%s%N)
    if ! "$@" get-keys --url "https://localhost:$port" --insecure-mock-attestation \
      --app-id 0000000000000000000000000000000000000001 --root-ca "$state/root-ca.crt" \
      >"$work/get-keys.out" 2>"$work/get-keys.err" \
      || ! grep -q disk_crypt_key "$work/get-keys.out"; then
      # counted, not fatal: on a saturated machine a call can miss the 5 s connect bound
      tail -1 "$work/get-keys.err" >&2
      failed=$((failed + 1))
      continue
    fi
    t1=$(date +%s%N)
    if [ "$i" = 1 ]; then first=$(( (t1 - t0) / 1000000 )); else times+=($(( (t1 - t0) / 1000000 ))); fi
  done
  local sorted med min max
  first=${first:--}
  if [ ${#times[@]} -gt 0 ]; then
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    med=$(echo "$sorted" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    min=$(echo "$sorted" | head -1)
    max=$(echo "$sorted" | tail -1)
  else
    med=$first; min=$first; max=$first
  fi
  echo "| $label | $n | $failed | $first | $med | $min | $max | $(cut -d' ' -f1 /proc/loadavg) |"
}

# ---- 1. the floor, same JVM flags as the server ----
load_floor=$(cut -d' ' -f1-3 /proc/loadavg)
start_kms "$jar" kms # the floor needs the KMS's root CA (response size)
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $flags -cp "$work/bench:$jar" -Dlogback.configurationFile=/dev/null \
  FloorBench "$state/root-ca.crt" "$((duration < 6 ? 4 : 8))" >"$work/floor.txt" 2>"$work/floor.err" \
  || { cat "$work/floor.err" >&2; exit 1; }
floor_us() { awk -v n="$1" '$1=="floor" && $2==n {print $3}' "$work/floor.txt"; }
F=$(floor_us total_ms)
[ -n "$F" ] || { echo "FloorBench printed no total" >&2; cat "$work/floor.txt" "$work/floor.err" >&2; exit 1; }
bound=$(awk -v c="$cores" -v f="$F" 'BEGIN{printf "%.0f", c*1000/f}')

# ---- 2. GetAppKey under load ----
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
load keepalive 4 "$warmup" >/dev/null # warm-up: JIT, TLS, collateral, PCK chain
load handshake 4 "$warmup" >/dev/null
rows=""
keepalive_rps=""
ka1_p50=""
hs_largest=""
rss_largest=0
jfr=""
hs_jfr=""
for mode in keepalive handshake; do
  for c in $conns; do
    rss_file="$work/rss-$mode-$c"
    : >"$rss_file"
    sample_rss "$rss_file" &
    sampler=$!
    read -r m cc n errs rps p50 p99 max < <(load "$mode" "$c" "$duration")
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""
    if [ "$profile" = 1 ] && [ "$c" = "$largest" ]; then
      # a separate run under JFR, so the profiler's cost stays out of the measured figures
      [ "$mode" = keepalive ] && jfr="$work/getappkey.jfr" || hs_jfr="$work/getappkey-handshake.jfr"
      jcmd "$pid" JFR.start name=bench settings=profile \
        filename="$([ "$mode" = keepalive ] && echo "$jfr" || echo "$hs_jfr")" >/dev/null
      load "$mode" "$c" "$duration" >/dev/null
      jcmd "$pid" JFR.stop name=bench >/dev/null
    fi
    rss=$(sort -n "$rss_file" | tail -1)
    rss_mib=$(( ${rss:-0} / 1024 ))
    if [ "$mode" = keepalive ]; then
      ratio=$(awk -v r="$rps" -v b="$bound" 'BEGIN{printf "%.2f", r/b}')
      p50f=$(awk -v p="$p50" -v f="$F" 'BEGIN{printf "%.2f", p/f}')
      [ "$c" = "$largest" ] && keepalive_rps=$rps
      [ "$c" = 1 ] && ka1_p50=$p50
    else
      ratio=$(awk -v r="$rps" -v b="$bound" 'BEGIN{printf "%.2f", r/b}')
      p50f=$(awk -v p="$p50" -v f="$F" 'BEGIN{printf "%.2f", p/f}')
      [ "$c" = "$largest" ] && hs_largest=$rps
    fi
    [ "$c" = "$largest" ] && [ "$rss_mib" -gt "$rss_largest" ] && rss_largest=$rss_mib
    rows+="| $m | $cc | $n | $errs | $rps | $ratio | $p50 | $p50f | $p99 | $max | $rss_mib |"$'\n'
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
gk_rows=""
if [ "$getkeys" -gt 0 ]; then
  gk_rows+=$(KMS_JAR="$jar" time_get_keys '`kms/bin/kms get-keys`' "$getkeys" "$root/kms/bin/kms")$'\n'
  gk_rows+=$(time_get_keys '`java -jar kms.jar get-keys` (no flags)' "$getkeys" \
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$jar")$'\n'
fi
audit_lines=$(wc -l <"$state/kms-audit.jsonl")
stop_kms
blocked=$(grep -c 'has been blocked' "$work/kms.stderr" || true)

profile_md=""
base_profile_md=""
if [ -n "$jfr" ] && [ -f "$jfr" ]; then
  profile_md=$(python3 "$root/kms/bench/appkey/profile.py" "$jfr" 2>"$work/profile.err" || cat "$work/profile.err")
  [ -z "${KMS_BENCH_JFR_DIR:-}" ] || cp "$jfr" "$KMS_BENCH_JFR_DIR/"
fi
hs_profile_md=""
if [ -n "$hs_jfr" ] && [ -f "$hs_jfr" ]; then
  hs_profile_md=$(python3 "$root/kms/bench/appkey/profile.py" "$hs_jfr" 2>"$work/profile.err" || cat "$work/profile.err")
  [ -z "${KMS_BENCH_JFR_DIR:-}" ] || cp "$hs_jfr" "$KMS_BENCH_JFR_DIR/"
fi

# ---- 3. the same load against other code (optional), same flags, same run ----
base_rows=""
base_hs=""
base_jfr=""
if [ -n "$baseline" ]; then
  start_kms "$baseline" baseline
  load keepalive 4 "$warmup" >/dev/null
  load handshake 4 "$warmup" >/dev/null
  for mode in keepalive handshake; do
    rss_file="$work/rss-baseline-$mode"
    : >"$rss_file"
    sample_rss "$rss_file" &
    sampler=$!
    read -r m cc n errs rps p50 p99 max < <(load "$mode" "$largest" "$duration")
    kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; sampler=""
    if [ "$profile" = 1 ] && [ "$mode" = keepalive ]; then
      base_jfr="$work/baseline.jfr"
      jcmd "$pid" JFR.start name=bench settings=profile filename="$base_jfr" >/dev/null
      load "$mode" "$largest" "$duration" >/dev/null
      jcmd "$pid" JFR.stop name=bench >/dev/null
    fi
    rss=$(sort -n "$rss_file" | tail -1)
    [ "$mode" = handshake ] && base_hs=$rps
    base_rows+="| baseline $m | $cc | $n | $errs | $rps | $p50 | $p99 | $max | $(( ${rss:-0} / 1024 )) |"$'\n'
  done
  if [ "$getkeys" -gt 0 ]; then
    gk_rows+=$(time_get_keys 'baseline `java -jar kms.jar get-keys`' "$getkeys" \
      "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$baseline")$'\n'
  fi
  stop_kms
  if [ -n "$base_jfr" ] && [ -f "$base_jfr" ]; then
    base_profile_md=$(python3 "$root/kms/bench/appkey/profile.py" "$base_jfr" 2>"$work/profile.err" || cat "$work/profile.err")
  fi
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

ratio_ka=$(awk -v r="$keepalive_rps" -v b="$bound" 'BEGIN{printf "%.2f", r/b}')
p50_bound=$(awk -v f="$F" 'BEGIN{printf "%.2f", 2*f+1}')
targets="| target | measured | bound | met |
| --- | --- | --- | --- |
| keep-alive, $largest clients: ≥ 50 % of C×1000/F | $keepalive_rps req/s = ${ratio_ka} × $bound | ≥ 0.50 × | $(awk -v r="$ratio_ka" 'BEGIN{print (r>=0.5)?"yes":"no"}') |"
if [ -n "$ka1_p50" ]; then
  targets+="
| keep-alive, 1 client: p50 ≤ 2F + 1 ms | $ka1_p50 ms | ≤ $p50_bound ms | $(awk -v p="$ka1_p50" -v b="$p50_bound" 'BEGIN{print (p<=b)?"yes":"no"}') |"
fi
if [ -n "$base_hs" ]; then
  hs_x=$(awk -v a="$hs_largest" -v b="$base_hs" 'BEGIN{printf "%.2f", (b>0)?a/b:0}')
  targets+="
| handshake, $largest clients: ≥ 2 × the baseline | $hs_largest req/s = ${hs_x} × $base_hs | ≥ 2.00 × | $(awk -v r="$hs_x" 'BEGIN{print (r>=2)?"yes":"no"}') |"
fi
targets+="
| server RSS during the $largest-client runs ≤ 256 MiB | $rss_largest MiB | ≤ 256 MiB | $([ "$rss_largest" -le 256 ] && echo yes || echo no) |"

mkdir -p "$(dirname "$out")"
cat >"$out" <<MD
# KMS GetAppKey benchmark

Generated by \`kms/bench/appkey.sh --duration $duration --connections "$conns"$([ -n "$baseline" ] && echo " --baseline-jar …")$([ "$profile" = 1 ] && echo " --profile")$([ "$getkeys" -gt 0 ] && echo " --get-keys $getkeys")\` on $(date -u +%Y-%m-%dT%H:%MZ),
$cores cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1). Server JVM flags: \`$flags\` (what JVM
ergonomics choose in a 2-vCPU, 1 GiB CVM: serial GC, max heap 256 MiB).

Load average (1/5/15 min): $load_floor before the floor, $load_before before the load runs,
$load_after after them, $load_end at the end. The machine is shared with other jobs, so absolute
figures are noisy; the ratios to the floor measured in the same run are the useful numbers.

## The floor

What a GetAppKey cannot avoid, measured in-process, single-threaded, after warm-up, with the
server's JVM flags (\`kms/bench/appkey/FloorBench.java\`, median of interleaved rounds):

| part | µs |
| --- | --- |
| P-256 verification: QE report (PCK key) | $(floor_us p256_verify_qe_report) |
| P-256 verification: quote (attestation key) | $(floor_us p256_verify_quote) |
| derivation: HKDF ×3, P-256 scalar mults (disk, env), K256 key and recoverable signature | $(floor_us derivation) |
| server TLS record work: unwrap request, wrap response (keep-alive, TLS 1.3) | $(floor_us tls_records) |
| **F** | **$(awk -v f="$F" 'BEGIN{printf "%.0f", f*1000}')** ($F ms) |

A platform's PCK chain verifies once and is remembered, so its two signatures are not in F; the
CRL checks it still gets on every call cost microseconds. Throughput bound on $cores cores:
C × 1000 / F = **$bound req/s**.

## GetAppKey under load

\`kms dev\` on 127.0.0.1: mock TDX attestation verified by the real DCAP verifier with the mock
root and in-process collateral (cached collateral), dev auth policy (no I/O), image verification
off, the JSON-lines audit log on (one line per request). The load generator
(\`kms/bench/appkey/AppKeyBench.java\`) runs on the same $cores cores: N clients, each with its own
P-256 key and RA-TLS certificate from the temp CA carrying a V0 mock attestation bound to that key,
each in a closed loop of \`POST /prpc/GetAppKey?json\` for ${duration} s after a warm-up. Every
request pays the edge's attestation verification (QE report and quote signatures, TCB match,
CRLs, RTMR3 replay, report-data binding; the verdict is never cached), BootInfo, the policy call,
the key derivation and the audit write.

- **keepalive**: one HTTP/1.1 connection per client, TLS once; verification still per request
  (AppKeyBench, a plain blocking TLS socket per client).
- **handshake**: a new TCP connection and a full TLS 1.3 handshake with the client certificate per
  request, no session resumption (\`Connection: close\`), what a booting guest does
  (\`kms/bench/appkey/handshake.py\`: one process per client on Python's OpenSSL, which costs the
  shared cores less than the JDK's client TLS; it does not verify the server's certificate, the
  guest's own work, but checks every answer for status 200 and an app key).

The server's TLS: $(cat "$work/tls-engine-kms" 2>/dev/null || true) (\`[rpc.tls] engine = "auto"\`; the baseline's: jdk).

"× bound" is requests/s over C × 1000 / F; "p50 / F" is the median latency in units of F.
RSS is the server's largest resident set sampled every 200 ms during the run.

| mode | clients | requests | errors | requests/s | × bound | p50 ms | p50 / F | p99 ms | max ms | RSS MiB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows}
Audit log after the runs: ${audit_lines} lines; ${blocked} blocked-event-loop warnings.

Reading the numbers: the bound assumes the server has all $cores cores, but the load generator and
(on a shared machine) other jobs run on the same cores. At a load average far above $cores both
sides are distorted, in either direction: F is measured by one thread, while the server's several
threads take a larger share of a contended machine, so "× bound" can exceed 1. Compare rows of
one run, and compare with the baseline only within one run. In handshake mode every request is a
full handshake, so the server also pays its key exchange, its signature and the client
certificate's checks each time, for our code and the baseline alike. What the server remembers across
requests is bounded and never a verdict: checked collateral and each platform's verified PCK chain.
$(if [ -n "$base_rows" ]; then cat <<BASE

## The same load against the baseline code

Same flags, same machine, right after the runs above; the baseline jar was built outside the repo.

| mode | clients | requests | errors | requests/s | p50 ms | p99 ms | max ms | RSS MiB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${base_rows}
BASE
fi)

$(if [ -n "$gk_rows" ]; then cat <<GK

## \`kms get-keys\` against this \`kms dev\`

Wall time of whole calls, JVM start included (GetTempCaCert, mock attestation, RA-TLS client
certificate, GetAppKey, the server's attestation checked), after the load runs. The first call is
shown apart (it writes the launcher's class-data archive when there is none).

| command | calls | failed | first ms | median ms | min ms | max ms | load (1 min) |
| --- | --- | --- | --- | --- | --- | --- | --- |
${gk_rows}
GK
fi)

## Targets

${targets}
$(if [ -n "$profile_md" ]; then cat <<PROF

## Where the time goes (JFR, keep-alive, $largest clients)

Server-side JFR \`jdk.ExecutionSample\` (CPU) and \`jdk.ObjectAllocationSample\` (bytes, by weight)
during a separate run of the same load right after the measured one (the profiler's cost stays out
of the figures above), each sample put in the stage its innermost recognised frame names
(\`kms/bench/appkey/profile.py\`).

${profile_md}
PROF
fi)
$(if [ -n "$hs_profile_md" ]; then cat <<PROF

### Handshake mode, $largest clients (a new TLS connection per request)

${hs_profile_md}
PROF
fi)
$(if [ -n "$base_profile_md" ]; then cat <<PROF

### The baseline code, same load (keep-alive)

${base_profile_md}
PROF
fi)
MD
cat "$out" >&2
echo "floor_ms=$F cores=$cores keepalive_rps=$keepalive_rps ratio=$ratio_ka"
