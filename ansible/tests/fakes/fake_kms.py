#!/usr/bin/env python3
"""A fake KMS (and auth-eth) for the playbook tests: plain HTTP on 127.0.0.1, stdlib only.

The freeze as seen in the field: GetMeta answers --getmeta-answers times, then every later GetMeta
is accepted and never answered (the connection stays open, as a KMS waiting on a hung webhook).
GetTempCaCert keeps answering. With --auth-hang the same server also plays auth-eth, whose `GET /`
hangs while /healthz/live answers. Every request is appended to the calls file as a JSON line.

Usage: fake_kms.py --calls FILE [--getmeta-answers N] [--auth-hang]
Prints {"url": "http://127.0.0.1:PORT"} once listening.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

# Shapes as the real KMS returns them (hex without 0x, PEM root); the values are fixed test data.
CA = ("-----BEGIN CERTIFICATE-----\nMIIBfake0000000000000000000000000000000000000000000000000000\n"
      "-----END CERTIFICATE-----\n")
META = {"ca_cert": CA, "allow_any_upgrade": False,
        "k256_pubkey": "02" + "ab" * 32, "bootstrap_info": None, "is_dev": False,
        "gateway_app_id": "", "kms_contract_address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "chain_id": 31337, "app_auth_implementation": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"}
NEVER = threading.Event()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", required=True)
    ap.add_argument("--getmeta-answers", type=int, default=1_000_000)
    ap.add_argument("--auth-hang", action="store_true")
    args = ap.parse_args()
    lock = threading.Lock()
    counts = {"GetMeta": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("fake-kms: " + (fmt % a) + "\n")

        def reply(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def hang(self):
            NEVER.wait()  # until the process is stopped

        def route(self):
            path = urlparse(self.path).path
            n = int(self.headers.get("Content-Length", "0") or 0)
            if n:
                self.rfile.read(n)
            method = path.removeprefix("/prpc/").removeprefix("KMS.")
            with lock:
                if method == "GetMeta":
                    counts["GetMeta"] += 1
                entry = {"path": path, "n": counts["GetMeta"] if method == "GetMeta" else None}
                with open(args.calls, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")
            if method == "GetMeta":
                if counts["GetMeta"] > args.getmeta_answers:
                    return self.hang()
                return self.reply(META)
            if method == "GetTempCaCert":
                return self.reply({"temp_ca_cert": CA, "temp_ca_key": "not-a-key", "ca_cert": CA})
            if path == "/" and args.auth_hang:
                return self.hang()
            if path in ("/healthz/live", "/healthz/ready", "/health"):
                return self.reply({"status": "ok"})
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = route
        do_POST = route

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"url": f"http://127.0.0.1:{server.server_address[1]}"}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
