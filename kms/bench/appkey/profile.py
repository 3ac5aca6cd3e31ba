#!/usr/bin/env python3
"""Stage profile of a GetAppKey JFR recording (kms/bench/appkey.sh --profile).

Reads jdk.ExecutionSample (CPU) and jdk.ObjectAllocationSample (bytes, by weight) with `jfr print`,
puts each sample in the stage of its innermost frame that names one (for one frame, the first
matching stage below) and prints a Markdown table, stages by CPU share.
Usage: profile.py recording.jfr
"""
import collections
import re
import subprocess
import sys

STAGES = [
    ("DCAP: PCK chain parse (PEM, X.509)", ["Certs.parsePemChain"]),
    ("DCAP: PCK cert and PCK CA signatures", ["Certs.requireIssuedBy"]),
    ("DCAP: CRL lookups", ["Certs.requireNotRevoked"]),
    ("DCAP: collateral windows", ["CheckedCollateral.requireCurrent", "PlatformChain.requireCurrent"]),
    ("DCAP: SGX extension", ["SgxExtension."]),
    ("DCAP: QE report and quote signatures", ["EcdsaP256.verify"]),
    ("DCAP: attestation key decode", ["EcdsaP256.publicKey"]),
    ("DCAP: rest (TCB match, QE identity)", ["DcapVerifier."]),
    ("attestation: extension read and decode", ["RaTlsExtensions", "VersionedAttestation.decode"]),
    ("attestation: quote parse", ["TdxQuote.parse"]),
    ("attestation: RTMR3 replay, event log", ["Rtmr.replay", "EventLogs"]),
    ("attestation: rest", ["AttestationVerifier.", "CallerAttestation"]),
    ("BootInfo / AppInfo, policy", ["AppAuthorization", "VerifiedAttestation.", "BootInfo", "AuthPolicy", "DevAuth"]),
    ("key derivation", ["KeyDerivation", "appKeyResponse"]),
    ("audit log", ["AuditLog", "AuditTrail"]),
    ("TLS handshake", ["HandshakeContext", "SSLHandshake", "CertificateVerify", "CertificateMessage",
                       "PKIXValidator", "X509TrustManagerImpl", "beginHandshake"]),
    ("TLS records", ["sun.security.ssl", "GaloisCounterMode", "AESCrypt", "GHASH"]),
    ("pRPC JSON / protobuf", ["PrpcJson", "com.google.protobuf", "PrpcRoutes"]),
    ("metrics", ["micrometer", "PrpcMetrics"]),
    ("HTTP, netty, Vert.x", ["io.netty", "io.vertx"]),
]


def events(jfr, kind):
    txt = subprocess.run(
        ["jfr", "print", "--events", kind, "--stack-depth", "96", jfr],
        capture_output=True, text=True, check=True).stdout
    for e in txt.split(kind + " {")[1:]:
        frames = re.findall(r"^\s{4}(\S.*?)\s+line:", e, re.M)
        w = re.search(r"weight = ([\d.]+) (bytes|kB|MB|GB)", e)
        weight = 1.0
        if w:
            weight = float(w.group(1)) * {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[w.group(2)]
        yield frames, weight


def stage(frames):
    # innermost first: the deepest frame that names a stage decides (request handling runs
    # nested inside netty's TLS decoder, so the outer frames say little)
    for f in frames:
        for name, keys in STAGES:
            if any(k in f for k in keys):
                return name
    return "other"


def main():
    jfr = sys.argv[1]
    cpu, alloc = collections.Counter(), collections.Counter()
    for frames, _ in events(jfr, "jdk.ExecutionSample"):
        cpu[stage(frames)] += 1
    for frames, w in events(jfr, "jdk.ObjectAllocationSample"):
        alloc[stage(frames)] += w
    n, total_alloc = sum(cpu.values()), sum(alloc.values())
    if n == 0:
        print("(no execution samples)")
        return
    print(f"| stage | CPU samples | CPU % | allocation % |")
    print("| --- | --- | --- | --- |")
    names = sorted(set(cpu) | set(alloc), key=lambda k: (-cpu[k], -alloc[k]))
    for k in names:
        a = 100 * alloc[k] / total_alloc if total_alloc else 0
        print(f"| {k} | {cpu[k]} | {100 * cpu[k] / n:.1f} | {a:.1f} |")
    print(f"| total | {n} | 100 | 100 ({total_alloc / 1e6:.0f} MB sampled weight) |")
    collections_, paused_ms = gc_pauses(jfr)
    seconds = duration_s(jfr)
    if seconds:
        print()
        print(f"Not in the samples above (they cover Java threads): {collections_} collections "
              f"paused the server for {paused_ms:.0f} ms in the recording's {seconds} s "
              f"({100 * paused_ms / (1000 * seconds):.1f} % of one core).")


def gc_pauses(jfr):
    txt = subprocess.run(["jfr", "print", "--events", "jdk.GarbageCollection", jfr],
                         capture_output=True, text=True, check=True).stdout
    unit = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}
    pauses = [float(v) * unit.get(u, 1.0)
              for v, u in re.findall(r"sumOfPauses = ([\d.]+) (s|ms|us|ns)", txt)]
    return len(pauses), sum(pauses)


def duration_s(jfr):
    txt = subprocess.run(["jfr", "summary", jfr], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Duration: (\d+) s", txt)
    return int(m.group(1)) if m else 0


if __name__ == "__main__":
    main()
