#!/usr/bin/env python3
"""A fake dstack VMM for the playbook tests: the pRPC JSON API on 127.0.0.1, stdlib only.

Every call needs `Authorization: Bearer <token>` (401 otherwise, as a VMM with [auth] enabled
answers). Each request is appended to the calls file as one JSON line {method, path, auth_ok,
body}; the token itself is never written. VM state changes take effect at once.

Usage: fake_vmm.py --token-file FILE --calls FILE [--port N] [--vm NAME ...]
Prints {"url": "http://127.0.0.1:PORT"} on stdout once listening.
"""
import argparse
import hashlib
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

VM_FIELDS = {"name": str, "image": str, "compose_file": str, "vcpu": int, "memory": int,
             "disk_size": int, "ports": list}
PORT_FIELDS = {"protocol": str, "host_address": str, "host_port": int, "vm_port": int}


class State:
    def __init__(self, token, calls_path):
        self.token = token
        self.calls_path = calls_path
        self.vms = {}
        self.lock = threading.Lock()

    def record(self, entry):
        with self.lock, open(self.calls_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def validate_vm(body):
    """Checks a CreateVm body like the VMM does: types, and compose_file as an app-compose."""
    for key, typ in VM_FIELDS.items():
        if not isinstance(body.get(key), typ) or isinstance(body.get(key), bool):
            return f"field {key}: expected {typ.__name__}, got {type(body.get(key)).__name__}"
    for p in body["ports"]:
        for key, typ in PORT_FIELDS.items():
            if not isinstance(p.get(key), typ):
                return f"ports.{key}: expected {typ.__name__}, got {type(p.get(key)).__name__}"
    try:
        compose = json.loads(body["compose_file"])
    except ValueError as e:
        return f"compose_file is not JSON: {e}"
    if not isinstance(compose.get("docker_compose_file"), str):
        return "compose_file has no docker_compose_file"
    return None


def handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("fake-vmm: " + (fmt % args) + "\n")

        def reply(self, status, obj, content_type="application/json"):
            data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorized(self):
            return self.headers.get("Authorization", "") == "Bearer " + state.token

        def do_GET(self):
            url = urlparse(self.path)
            ok = self.authorized()
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            state.record({"method": "GET", "path": url.path, "query": q, "auth_ok": ok})
            if not ok:
                return self.reply(401, {"error": "Unauthorized"})
            if url.path == "/logs":
                vm = state.vms.get(q.get("id", ""))
                if vm is None:
                    return self.reply(404, {"error": "vm not found"})
                text = "".join(f"[{q.get('ch', 'serial')}] {line}\n" for line in vm["logs"])
                return self.reply(200, text.encode(), "text/plain; charset=utf-8")
            return self.reply(404, {"error": "not found"})

        def do_POST(self):
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = self.authorized()
            method = url.path.removeprefix("/prpc/").removeprefix("Vmm.")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            state.record({"method": method, "path": url.path, "auth_ok": ok, "body": body})
            if not ok:
                return self.reply(401, {"error": "Unauthorized"})
            if body is None:
                return self.reply(400, {"error": "body is not JSON"})
            if method == "Status":
                vms = [{"id": i, "name": v["name"], "status": v["status"],
                        "app_id": v["app_id"]} for i, v in state.vms.items()]
                return self.reply(200, {"vms": vms, "port_mapping_enabled": True})
            if method == "CreateVm":
                err = validate_vm(body)
                if err:
                    return self.reply(400, {"error": err})
                vm_id = str(uuid.uuid4())
                compose_hash = hashlib.sha256(body["compose_file"].encode()).hexdigest()
                state.vms[vm_id] = {"name": body["name"], "status": "running",
                                    "app_id": compose_hash[:40],
                                    "logs": ["kms: starting", f"compose hash {compose_hash}"]}
                return self.reply(200, {"id": vm_id})
            if method in ("StopVm", "RemoveVm"):
                vm = state.vms.get(body.get("id", ""))
                if vm is None:
                    return self.reply(400, {"error": "vm not found"})
                if method == "StopVm":
                    vm["status"] = "stopped"
                else:
                    del state.vms[body["id"]]
                return self.reply(200, {})
            return self.reply(400, {"error": f"Method not found: {method}"})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--calls", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--vm", action="append", default=[], help="a VM that already runs")
    args = ap.parse_args()
    with open(args.token_file, encoding="utf-8") as f:
        state = State(f.read().strip(), args.calls)
    for name in args.vm:
        state.vms[str(uuid.uuid4())] = {"name": name, "status": "running", "app_id": "00" * 20,
                                        "logs": ["kms: starting", "kms: GetMeta stuck"]}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(state))
    server.daemon_threads = True
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
