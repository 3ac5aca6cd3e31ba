#!/usr/bin/env python3
"""Handshake-mode load for kms/bench/appkey.sh: what a booting fleet does to the KMS. Each client
is its own process (no shared interpreter lock) with its own RA-TLS certificate and key (exported
by AppKeyBench), in a closed loop of: new TCP connection, full TLS 1.3 handshake with the client
certificate (no session resumption: a booting guest has no session to resume), one
POST /prpc/GetAppKey?json with Connection: close, read to the server's close.

The client side is OpenSSL (Python's ssl) rather than the JDK's TLS because the generator shares
the server's cores: the JDK's client handshake cost more CPU than the server's. For the same
reason the client does not verify the server's certificate (that is the guest's work, not the
KMS's; every response is still checked for status 200 and an app key).

Usage: handshake.py PORT CERT_DIR CONCURRENCY SECONDS
Prints one line: handshake concurrency requests errors rps p50_ms p99_ms max_ms
"""
import math
import multiprocessing
import socket
import ssl
import sys
import time

BODY = b'{"api_version":1}'
REQUEST = (b"POST /prpc/GetAppKey?json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\n"
           b"Content-Length: %d\r\n\r\n" % len(BODY)) + BODY


def client(port, cert_dir, i, deadline, out):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(f"{cert_dir}/c{i}.crt", f"{cert_dir}/c{i}.key")
    lat, errors = [], 0
    while time.time() < deadline:
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with ctx.wrap_socket(raw) as s:
                    s.sendall(REQUEST)
                    chunks = []
                    while True:
                        d = s.recv(65536)
                        if not d:
                            break
                        chunks.append(d)
            resp = b"".join(chunks)
            if not resp.startswith(b"HTTP/1.1 200") or b"disk_crypt_key" not in resp:
                errors += 1
                continue
        except (OSError, ssl.SSLError):
            errors += 1
            continue
        lat.append(time.monotonic() - t0)
    out.put((lat, errors))


def pct(sorted_s, p):
    if not sorted_s:
        return 0.0
    return sorted_s[min(len(sorted_s) - 1, math.ceil(p * len(sorted_s)) - 1)] * 1000


def main():
    port, cert_dir, n, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    deadline = time.time() + seconds
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(port, cert_dir, i, deadline, out))
             for i in range(n)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    lat = sorted(x for l, _ in results for x in l)
    errors = sum(e for _, e in results)
    print("handshake %d %d %d %.0f %.2f %.2f %.2f" % (
        n, len(lat), errors, len(lat) / seconds, pct(lat, 0.50), pct(lat, 0.99),
        lat[-1] * 1000 if lat else 0.0))


if __name__ == "__main__":
    main()
