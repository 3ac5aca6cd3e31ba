#!/usr/bin/env bash
# Benchmark: our auth-eth, and optionally upstream's Node auth-eth, on the same anvil chain with our
# contracts. Measures throughput and p99 for GET / and POST /bootAuth/app at several connection
# counts, and the upstream RPC calls each target makes per 1000 requests (counted by a proxy
# between each target and anvil). Results: one JSON line per run in $OUT/results.jsonl, and a
# markdown table on stdout.
#
#   auth-eth/bench/run.sh                          # ours only
#   UPSTREAM_DIR=/path/to/built/auth-eth auth-eth/bench/run.sh
#
# UPSTREAM_DIR is a built checkout of dstack's kms/auth-eth (npm ci && npx tsc: dist/main.js).
# A last run holds GET / for STEADY seconds (default 65, longer than one metadata refresh) against
# ours to measure RPC calls per 1000 GET / at steady state.
# Env: DURATION (s, default 10), CONNS (default "1 10 50"), WARMUP (s, default 5), STEADY,
#      BENCH_TOOLS (where autocannon is installed, default /tmp/auth-eth-bench-tools), OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH=$ROOT/auth-eth/bench
DURATION=${DURATION:-10}
CONNS=${CONNS:-1 10 50}
WARMUP=${WARMUP:-5}
STEADY=${STEADY:-65}
BENCH_TOOLS=${BENCH_TOOLS:-/tmp/auth-eth-bench-tools}
OUT=${OUT:-$(mktemp -d /tmp/auth-eth-bench.XXXXXX)}
export BENCH_TOOLS
source .ci/jdk.sh

ANVIL=$ROOT/auth-eth/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
[ -x "$ANVIL" ] || npm install --prefix auth-eth --no-audit --no-fund --loglevel=error
[ -f auth-eth/target/auth-eth.jar ] || mvn -B -q -pl auth-eth package -DskipTests
[ -d "$BENCH_TOOLS/node_modules/autocannon" ] || npm install --prefix "$BENCH_TOOLS" --no-audit --no-fund --loglevel=error autocannon@7.15.0
JAR=$ROOT/auth-eth/target/auth-eth.jar

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_http() { # url, seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; return 1
}
start_counter() { # name -> sets COUNTER_URL
  node "$BENCH/rpc-counter.js" "$ANVIL_URL" > "$OUT/$1-counter.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do grep -q url "$OUT/$1-counter.out" 2>/dev/null && break; sleep 0.1; done
  COUNTER_URL=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$OUT/$1-counter.out','utf8').split('\n')[0]).url)")
}
calls() { curl -fs "$1/__stats" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log(Object.values(j.calls).reduce((a,b)=>a+b,0))})"; }

# Chain with our contracts, one allowed app.
APORT=$(free_port)
"$ANVIL" --host 127.0.0.1 --port "$APORT" --silent > "$OUT/anvil.log" 2>&1 &
PIDS+=($!)
ANVIL_URL=http://127.0.0.1:$APORT
sleep 0.5
export ETH_RPC_URL=$ANVIL_URL ETH_PRIVATE_KEY=ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
H11=$(printf '11%.0s' {1..32}); H22=$(printf '22%.0s' {1..32}); H44=$(printf '44%.0s' {1..32}); H66=$(printf '66%.0s' {1..32})
KMS=$(java -jar "$JAR" contracts deploy --gateway-app-id gateway-app-id-test | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).kmsContractAddr))")
java -jar "$JAR" contracts allow-os-image --kms "$KMS" --hash "$H22" > /dev/null
java -jar "$JAR" contracts allow-kms --kms "$KMS" --mr "$H11" --device-id "$H66" > /dev/null
APP=$(java -jar "$JAR" contracts deploy-app --kms "$KMS" --compose-hash "$H44" --device-id "$H66" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).appId))")
unset ETH_RPC_URL ETH_PRIVATE_KEY
cat > "$OUT/body.json" <<JSON
{"teeVariant":"dstack-tdx","mrAggregated":"$H11","osImageHash":"$H22","mrSystem":"","appId":"${APP:2}","composeHash":"$H44","instanceId":"","deviceId":"$H66","keyProviderInfo":"","tcbStatus":"UpToDate","advisoryIds":[]}
JSON
echo "chain $ANVIL_URL kms $KMS app $APP; results in $OUT" >&2

TARGETS=()
# Ours. The outbound bucket is opened wide: a local anvil has no plan to protect.
start_counter ours
OURS_COUNTER=$COUNTER_URL
OPORT=$(free_port)
HOST=127.0.0.1 PORT=$OPORT ETH_RPC_URL=$OURS_COUNTER KMS_CONTRACT_ADDR=$KMS \
  ETH_RPC_RATE_PER_SEC=100000 ETH_RPC_BURST=100000 AUTH_ETH_LOG_LEVEL=WARN \
  java --enable-native-access=ALL-UNNAMED -jar "$JAR" serve > "$OUT/ours.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$OPORT/healthz/ready" 60
TARGETS+=("ours http://127.0.0.1:$OPORT $OURS_COUNTER")

if [ -n "${UPSTREAM_DIR:-}" ]; then
  start_counter upstream
  UP_COUNTER=$COUNTER_URL
  UPORT=$(free_port)
  (cd "$UPSTREAM_DIR" && HOST=127.0.0.1 PORT=$UPORT ETH_RPC_URL=$UP_COUNTER KMS_CONTRACT_ADDR=$KMS \
    exec node dist/main.js > "$OUT/upstream.log" 2>&1) &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$UPORT/" 60
  TARGETS+=("upstream http://127.0.0.1:$UPORT $UP_COUNTER")
fi

RESULTS=$OUT/results.jsonl
: > "$RESULTS"
for t in "${TARGETS[@]}"; do
  read -r name url counter <<< "$t"
  # Warm-up (JIT, connection pools), not recorded.
  node "$BENCH/load.js" "$url" GET / 10 "$WARMUP" > /dev/null
  node "$BENCH/load.js" "$url" POST /bootAuth/app 10 "$WARMUP" "$OUT/body.json" > /dev/null
  for route in "GET /" "POST /bootAuth/app"; do
    read -r method path <<< "$route"
    for c in $CONNS; do
      before=$(calls "$counter")
      if [ "$method" = POST ]; then
        r=$(node "$BENCH/load.js" "$url" POST "$path" "$c" "$DURATION" "$OUT/body.json")
      else
        r=$(node "$BENCH/load.js" "$url" GET "$path" "$c" "$DURATION")
      fi
      after=$(calls "$counter")
      echo "$r" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);
        j.target='$name';j.route='$method $path';j.connections=$c;j.rpcCalls=$after-$before;
        j.rpcPer1000=j.total?Math.round(1000*j.rpcCalls/j.total*100)/100:null;console.log(JSON.stringify(j))})" >> "$RESULTS"
      tail -1 "$RESULTS" >&2
    done
  done
done

# Steady state: GET / held across at least one metadata refresh (every 60 s by default).
read -r name url counter <<< "${TARGETS[0]}"
before=$(calls "$counter")
r=$(node "$BENCH/load.js" "$url" GET / 10 "$STEADY")
after=$(calls "$counter")
echo "$r" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);
  j.target='$name (steady ${STEADY}s)';j.route='GET /';j.connections=10;j.rpcCalls=$after-$before;
  j.rpcPer1000=j.total?Math.round(1e6*j.rpcCalls/j.total)/1000:null;console.log(JSON.stringify(j))})" >> "$RESULTS"
tail -1 "$RESULTS" >&2

node -e "
const rows=require('fs').readFileSync('$RESULTS','utf8').trim().split('\n').map(JSON.parse);
console.log('| target | route | conns | req/s | p50 ms | p99 ms | non-2xx | errors | RPC calls / 1000 req |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log('| '+[r.target,r.route,r.connections,Math.round(r.rps),r.p50,r.p99,r.non2xx,r.errors+r.timeouts,r.rpcPer1000].join(' | ')+' |');
"
