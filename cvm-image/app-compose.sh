#!/usr/bin/env bash
# Writes DIR/app-compose.json, dstack's app-compose manifest embedding docker-compose.yaml with every
# ${…} rendered, and prints its compose hash (sha256 of the file's bytes, 64 lowercase hex) as the
# only line on stdout.
#
#   cvm-image/app-compose.sh [--kms-image REF] [--auth-eth-image REF] [--out DIR]
#
#   --kms-image REF       image for the kms service (default: $KMS_IMAGE, else the ID in
#                         build/images.lock); pin by digest: registry/cvm-kms/kms@sha256:…
#   --auth-eth-image REF  likewise for auth-eth ($AUTH_ETH_IMAGE, else images.lock)
#   --out DIR             where app-compose.json goes (default: cvm-image/build)
#
# The other variables of docker-compose.yaml come from the environment: ETH_RPC_URL and
# KMS_CONTRACT_ADDR are required; ETH_CHAIN_ID, KMS_AUTO_BOOTSTRAP_DOMAIN, KMS_PORT, AUTH_ETH_PORT,
# DSTACK_SOCK and TSM_CONFIGFS have defaults. Rendering them here (not in the CVM) makes the
# hash pin every value the stack runs with.
#
# The JSON is canonical as dstack's SDKs hash it: keys sorted, separators "," and ":", UTF-8 without
# \u escapes of non-ASCII, no trailing newline. So this hash is what the VMM's GetComposeHash and
# the guest's compose-hash event report for the file, and what the auth contract must allow.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/build
kms_image=${KMS_IMAGE:-}
auth_image=${AUTH_ETH_IMAGE:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --kms-image|--auth-eth-image|--out)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "app-compose.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --kms-image) kms_image=$2 ;;
        --auth-eth-image) auth_image=$2 ;;
        --out) out=$2 ;;
      esac
      shift 2 ;;
    -h|--help) sed -n 2,22p "$0"; exit 0 ;;
    *) echo "app-compose.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
lock=$here/build/images.lock
if { [ -z "$kms_image" ] || [ -z "$auth_image" ]; } && [ ! -f "$lock" ]; then
  echo "app-compose.sh: give --kms-image and --auth-eth-image, or run build.sh first ($lock)" >&2
  exit 2
fi
mkdir -p "$out"
KMS_IMAGE=$kms_image AUTH_ETH_IMAGE=$auth_image LOCK=$lock OUT=$out/app-compose.json \
  COMPOSE=$here/docker-compose.yaml python3 - <<'PY'
import hashlib, json, os, re, sys

def fail(msg):
    print("app-compose.sh: " + msg, file=sys.stderr)
    sys.exit(2)

env = dict(os.environ)
if not env.get("KMS_IMAGE") or not env.get("AUTH_ETH_IMAGE"):
    with open(env["LOCK"], encoding="utf-8") as f:
        lock = json.load(f)
    env["KMS_IMAGE"] = env.get("KMS_IMAGE") or lock["kms"]
    env["AUTH_ETH_IMAGE"] = env.get("AUTH_ETH_IMAGE") or lock["auth-eth"]
for name in ("KMS_IMAGE", "AUTH_ETH_IMAGE"):
    ref = env[name]
    if not re.fullmatch(r"(sha256:[0-9a-f]{64})|([^\s@]+@sha256:[0-9a-f]{64})", ref):
        print("app-compose.sh: warning: %s=%s is not pinned by digest; the compose hash will not "
              "pin the image" % (name, ref), file=sys.stderr)

# Compose's interpolation: ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, $V and $$.
pattern = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
def render(m):
    if m.group(1):
        return "$$"
    name = m.group(2) or m.group(5)
    op, arg = m.group(3), m.group(4)
    val = env.get(name)
    unset = val is None or (op is not None and op.startswith(":") and val == "")
    if op in (":-", "-") and unset:
        val = arg
    elif op in (":?", "?") and unset:
        fail("%s is required: %s" % (name, arg))
    elif val is None:
        fail("%s is not set" % name)
    # Values land inside double-quoted YAML scalars (or plain image references): refuse what
    # would change the YAML's structure rather than escape it.
    if any(c in val for c in '"\\\n\r'):
        fail("%s must not contain a double quote, backslash or line break" % name)
    # The CVM's compose interpolates again: a literal "$" must stay literal.
    return val.replace("$", "$$")

with open(env["COMPOSE"], encoding="utf-8") as f:
    compose = pattern.sub(render, f.read())

manifest = {
    "manifest_version": 2,
    "name": "kms",
    "runner": "docker-compose",
    "docker_compose_file": compose,
    "docker_config": {},
    "kms_enabled": False,
    "gateway_enabled": False,
    "local_key_provider_enabled": True,
    "public_logs": True,
    "public_sysinfo": True,
    "public_tcbinfo": True,
    "allowed_envs": [],
    "no_instance_id": True,
    "secure_time": False,
}
data = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
tmp = env["OUT"] + ".tmp"
with open(tmp, "wb") as f:
    f.write(data)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, env["OUT"])
print(hashlib.sha256(data).hexdigest())
PY
