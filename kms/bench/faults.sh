#!/usr/bin/env bash
# Fault-matrix rows 7 and 9 as measurements (spec reliability-security §6): retry storm, many
# distinct client addresses, slowloris and idle floods, against `kms dev` started here under a
# file descriptor limit of 1,024 (prlimit). Writes docs/bench-faults.md.
# Usage: kms/bench/faults.sh [--storm-seconds 30] [--clients 100000] [--slow 500] [--idle 5000]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
storm_s=30; clients=100000; slow=500; idle=5000
while [ $# -gt 0 ]; do
  case "$1" in
    --storm-seconds) storm_s=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --slow) slow=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
source "$root/.ci/jdk.sh"
jar="$root/kms/target/kms.jar"
[ -f "$jar" ] || (cd "$root" && mvn -B -q -ntp -pl kms -am package -DskipTests -DskipITs -Dspotless.check.skip=true)
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Deadlines shortened so the run is quick; the rate limit at its defaults (50/s, burst 100);
# the bucket map bounded at 20,000 so the distinct-clients row overflows it five times.
export KMS__LIMITS__HEADER_TIMEOUT=10s KMS__LIMITS__BODY_TIMEOUT=15s
export KMS__RATE_LIMIT__MAX_CLIENTS=20000
prlimit --nofile=1024:1024 -- "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xmx512m \
  -jar "$jar" dev --state-dir "$work/state" --port "$port" >"$work/stdout" 2>"$work/stderr" &
pid=$!
for i in $(seq 1 900); do
  curl -fsS --cacert "$work/state/root-ca.crt" "https://localhost:$port/healthz/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.1
done
py="$root/kms/bench/faults.py"
storm=$(python3 "$py" "$port" "$pid" storm "$storm_s")
slowloris=$(python3 "$py" "$port" "$pid" slowloris "$slow" "$idle")
distinct=$(python3 "$py" "$port" "$pid" clients "$clients")
metrics=$(curl -fsS --cacert "$work/state/root-ca.crt" "https://localhost:$port/metrics" \
  | grep -E '^kms_(http_limited|rpc_rate_limited)_total' | grep -v ' 0.0$' || true)
emfile=$(grep -c 'Too many open files' "$work/stderr" || true)

out="$root/docs/bench-faults.md"
load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$out" "$storm" "$slowloris" "$distinct" "$metrics" "$emfile" "$(nproc)" "$load" <<'PY'
import json, sys, datetime
out, storm, slow, dist, metrics, emfile, cpus, load = sys.argv[1], *map(json.loads, sys.argv[2:5]), sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
L = []
L.append("# Fault rows: retry storm, distinct clients, slowloris (kms/bench/faults.sh)\n")
L.append("Measured %s on %s CPUs, loopback; `kms dev` under `prlimit --nofile=1024`, header deadline 10 s, body deadline 15 s, rate limit 50/s burst 100, at most 20,000 buckets. Load generator (Python asyncio) and KMS share the CPUs, so only ratios within one run are meaningful. Load average at the end: %s (shared machine).\n" % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), cpus, load))
L.append("## Retry storm (row 7)\n")
txt = "A client that halves its delay after every 429 (from 127.0.0.1) against a polite client at 20 req/s (127.0.0.2), %d s each, unloaded then loaded in the same run, after a 5 s warm-up of both." % storm["seconds"]
if storm.get("pinned"):
    txt += (" For the whole row the storm generator runs on CPU %s and the KMS (all its threads) and the polite client on CPU %s, so the generator's own work does not take the server's CPU: the ratio measures what refusing the storm costs the server." % (",".join(map(str, storm["storm_cpus"])), ",".join(map(str, storm["kms_cpus"]))))
L.append(txt + "\n")
L.append("| | value |\n|---|---|")
r = lambda x: "n/a" if x is None else "%.1f" % x
L.append("| polite p50 / p99 unloaded (ms) | %s / %s |" % (r(storm["polite_unloaded_p50_ms"]), r(storm["polite_unloaded_p99_ms"])))
L.append("| polite p50 / p99 during the storm (ms) | %s / %s |" % (r(storm["polite_loaded_p50_ms"]), r(storm["polite_loaded_p99_ms"])))
ratio = storm["polite_loaded_p99_ms"] / storm["polite_unloaded_p99_ms"]
L.append("| p99 ratio loaded / unloaded (target <= 2) | **%.2f** |" % ratio)
L.append("| polite statuses (unloaded, loaded) | %s, %s |" % (storm["polite_codes_unloaded"], storm["polite_codes_loaded"]))
L.append("| storm requests sent / statuses | %d / %s |" % (storm["storm_sent"], storm["storm_codes"]))
L.append("| storm requests served per second (limit 50) | %.1f |" % storm["storm_ok_per_s"])
L.append("")
L.append("## Slowloris and idle flood (row 9)\n")
L.append("%d connections sending one header byte a second, %d sending one body byte a second (TLS done), and %d idle TCP connections from one address, while a polite client from another address runs 20 s.\n" % (slow["slow_header_conns"], slow["slow_body_conns"], slow["idle_conns"]))
L.append("| | value |\n|---|---|")
L.append("| fds before / peak / after | %s / %s / %s (limit 1,024) |" % (slow["fds_before"], slow["fds_peak"], slow["fds_after"]))
L.append("| slowest cut: slow header / slow body / idle (s) | %s / %s / %s (deadlines 10, 10+15, 10) |" % (slow["head_cut_max_s"], slow["body_cut_max_s"], slow["idle_cut_max_s"]))
L.append("| polite p50 / p99 (ms), statuses | %s / %s, %s |" % (r(slow["polite_p50_ms"]), r(slow["polite_p99_ms"]), slow["polite_codes"]))
L.append("| 'Too many open files' in the KMS log | %s |" % emfile)
L.append("")
L.append("## Distinct client addresses (row 7)\n")
L.append("%d clients, each from its own address in 127.0.0.0/8, one TLS connection and one GetMeta each, in four phases; a polite client runs throughout. Heap after a full GC (jcmd) at the end of each phase.\n" % dist["clients"])
L.append("| clients so far | seconds | statuses | polite p50 / p99 (ms) | heap after GC (MiB) |\n|---|---|---|---|---|")
for ph in dist["phases"]:
    L.append("| %d | %s | %s | %s / %s | %s |" % (ph["clients_so_far"], ph["seconds"], ph["codes"], r(ph["polite_p50_ms"]), r(ph["polite_p99_ms"]), ph["heap_after_gc_mib"]))
L.append("")
L.append("## Limit counters at the end\n")
L.append("```\n%s\n```\n" % metrics.strip())
open(out, "w").write("\n".join(L) + "\n")
PY
echo "wrote $out"
