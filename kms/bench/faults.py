#!/usr/bin/env python3
"""Fault-matrix rows against a running KMS (kms/bench/faults.sh starts it): retry storm, many
distinct client addresses, slowloris and idle floods. Prints one JSON object of measurements."""
import asyncio, json, multiprocessing, os, ssl, sys, time

HOST = "127.0.0.1"

_CTX = {}

def ctx():
    # One context per process: create_default_context() loads the system CA store, which cost
    # more than the handshake itself and held the distinct-clients row to ~40 connections/s.
    c = _CTX.get(os.getpid())
    if c is None:
        c = ssl.create_default_context()
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        c.set_alpn_protocols(["http/1.1"])
        _CTX[os.getpid()] = c
    return c

REQ = b"GET /prpc/GetMeta HTTP/1.1\r\nHost: localhost\r\n\r\n"
REQ_CLOSE = b"GET /prpc/GetMeta HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

async def read_response(r):
    head = await r.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await r.readexactly(length)
    return status

async def conn(port, local=None):
    return await asyncio.open_connection(HOST, port, ssl=ctx(), server_hostname="localhost",
                                         local_addr=(local, 0) if local else None)

def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]

async def polite(port, seconds, local="127.0.0.2", every=0.05):
    """A keep-alive client at 20 req/s; latencies in ms and statuses."""
    r, w = await conn(port, local)
    lat, codes = [], {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        w.write(REQ)
        await w.drain()
        s = await read_response(r)
        lat.append((time.perf_counter() - t0) * 1000)
        codes[s] = codes.get(s, 0) + 1
        await asyncio.sleep(every)
    w.close()
    return lat, codes

def storm_proc(port, seconds, q, cpus=None):
    """Four connections from one address, each wanting 100 req/s and halving its delay after
    every 429: together far above the 50 req/s the limiter grants that address."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    async def worker(end, codes):
        r, w = await conn(port, "127.0.0.1")
        delay, sent = 0.01, 0
        while time.monotonic() < end:
            w.write(REQ)
            await w.drain()
            s = await read_response(r)
            sent += 1
            codes[s] = codes.get(s, 0) + 1
            delay = 0.01 if s == 200 else delay / 2  # the bug: faster after each failure
            await asyncio.sleep(delay if delay > 1e-4 else 0)
        w.close()
        return sent
    async def run():
        codes = {}
        end = time.monotonic() + seconds
        sent = sum(await asyncio.gather(*(worker(end, codes) for _ in range(4))))
        q.put({"sent": sent, "codes": codes})
    asyncio.run(run())

def pin_all_threads(pid, cpus):
    import subprocess
    subprocess.run(["taskset", "-a", "-p", "-c", ",".join(map(str, sorted(cpus))), str(pid)],
                   check=True, capture_output=True)

def storm_cpus():
    """(the storm generator's CPUs, everyone else's): the generator, a Python loop sending
    thousands of requests a second, gets a CPU of its own, so what the polite client sees is the
    server's cost of refusing the storm, not the generator taking the server's CPU. None on 1 CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return {cpus[-1]}, set(cpus[:-1])

async def storm(port, seconds, pid):
    split = storm_cpus()
    everything = os.sched_getaffinity(0)
    if split:
        pin_all_threads(pid, split[1])
        os.sched_setaffinity(0, split[1])
    try:
        return await storm_pinned(port, seconds, split)
    finally:
        if split:
            pin_all_threads(pid, everything)
            os.sched_setaffinity(0, everything)

def run_storm(port, seconds, split):
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=storm_proc, args=(port, seconds, q, split[0] if split else None))
    p.start()
    return p, q

async def storm_pinned(port, seconds, split):
    # Warm-up (JIT for both the served and the refused path), so the unloaded baseline is not a
    # cold JVM's: a short storm beside the polite client, then a pause to drain the bucket.
    p, q = run_storm(port, 5, split)
    await polite(port, 5)
    p.join()
    q.get()
    await asyncio.sleep(3)
    base_lat, base_codes = await polite(port, seconds)
    p, q = run_storm(port, seconds, split)
    await asyncio.sleep(1)
    lat, codes = await polite(port, seconds - 2)
    p.join()
    s = q.get()
    ok = s["codes"].get(200, 0)
    return {"row": "retry storm", "seconds": seconds, "pinned": bool(split),
            "storm_cpus": sorted(split[0]) if split else None,
            "kms_cpus": sorted(split[1]) if split else None,
            "polite_unloaded_p50_ms": pct(base_lat, .5), "polite_unloaded_p99_ms": pct(base_lat, .99),
            "polite_loaded_p50_ms": pct(lat, .5), "polite_loaded_p99_ms": pct(lat, .99),
            "polite_codes_unloaded": base_codes, "polite_codes_loaded": codes,
            "storm_sent": s["sent"], "storm_codes": s["codes"],
            "storm_ok_per_s": ok / seconds}

def clients_proc(port, start, count, q):
    async def one(i):
        a = 1 + start + i
        local = "127.%d.%d.%d" % ((a >> 16) & 255, (a >> 8) & 255, (a & 255) or 1)
        try:
            r, w = await conn(port, local)
            # Connection: close, and wait for it: a connection merely dropped by the client stayed
            # open on both sides until the process ended, and hundreds of them ran into the
            # server's connection cap
            w.write(REQ_CLOSE)
            await w.drain()
            s = await read_response(r)
            await asyncio.wait_for(r.read(), 10)  # the server's close
            w.close()
            try:
                await asyncio.wait_for(w.wait_closed(), 2)
            except Exception:
                pass
            return s
        except Exception as e:
            return type(e).__name__
    async def run():
        codes = {}
        sem = asyncio.Semaphore(16)
        async def bounded(i):
            async with sem:
                return await one(i)
        for s in await asyncio.gather(*(bounded(i) for i in range(count))):
            codes[str(s)] = codes.get(str(s), 0) + 1
        q.put(codes)
    asyncio.run(run())

async def clients(port, total, pid, procs=2):
    """total distinct source addresses across 127.0.0.0/8, one request each, in 4 phases."""
    out = {"row": "distinct clients", "clients": total, "phases": []}
    phase = total // 4
    for k in range(4):
        q = multiprocessing.Queue()
        ps = [multiprocessing.Process(target=clients_proc,
                                      args=(port, k * phase + j * (phase // procs), phase // procs, q))
              for j in range(procs)]
        t0 = time.monotonic()
        for p in ps:
            p.start()
        # the polite client runs while the phase runs
        task = asyncio.ensure_future(polite_until(port, ps))
        codes = {}
        for p in ps:
            while p.is_alive():
                await asyncio.sleep(0.2)
        for _ in ps:
            for c, n in q.get().items():
                codes[c] = codes.get(c, 0) + n
        lat, pcodes = await task
        out["phases"].append({"clients_so_far": (k + 1) * phase, "seconds": round(time.monotonic() - t0, 1),
                              "codes": codes, "polite_p50_ms": pct(lat, .5), "polite_p99_ms": pct(lat, .99),
                              "heap_after_gc_mib": heap(pid)})
    return out

async def polite_until(port, procs):
    r, w = await conn(port, "127.0.0.2")
    lat, codes = [], {}
    while any(p.is_alive() for p in procs):
        t0 = time.perf_counter()
        w.write(REQ)
        await w.drain()
        s = await read_response(r)
        lat.append((time.perf_counter() - t0) * 1000)
        codes[s] = codes.get(s, 0) + 1
        await asyncio.sleep(0.05)
    w.close()
    return lat, codes

def heap(pid):
    import subprocess
    try:
        subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=60)
        out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
        for line in out.splitlines():
            if " used " in line and "total" in line:
                used = line.split("used")[1].split("K")[0].strip()
                return round(int(used) / 1024, 1)
    except Exception:
        return None

def fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None

async def slow_sender(port, mode, stop):
    """One connection sending one byte a second: of a header (mode head) or of a body (mode body).
    Returns seconds until the server cut it."""
    t0 = time.monotonic()
    try:
        r, w = await conn(port, "127.0.0.1")
        t0 = time.monotonic()
        if mode == "body":
            w.write(b"POST /prpc/GetMeta HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        else:
            w.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        while not stop.is_set():
            w.write(b"a" if mode == "body" else b"X")
            await w.drain()
            try:
                d = await asyncio.wait_for(r.read(1024), 1.0)
                if not d or b"408" in d:
                    if not d:
                        break
                    # answered 408: wait for the close
                    await asyncio.wait_for(r.read(), 30)
                    break
            except asyncio.TimeoutError:
                pass
        return time.monotonic() - t0
    except Exception:
        return time.monotonic() - t0

async def idle(port, n, local="127.0.0.1"):
    """n TCP connections that never send a byte; seconds until each was closed."""
    async def one():
        t0 = time.monotonic()
        try:
            r, w = await asyncio.open_connection(HOST, port, local_addr=(local, 0))
            await asyncio.wait_for(r.read(), 120)
        except Exception:
            pass
        return time.monotonic() - t0
    return await asyncio.gather(*(one() for _ in range(n)))

async def slowloris(port, pid, n, n_idle):
    stop = asyncio.Event()
    fd0 = fds(pid)
    peak = [fd0]
    async def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], fds(pid) or 0)
            await asyncio.sleep(0.2)
    watcher = asyncio.ensure_future(watch())
    heads = [asyncio.ensure_future(slow_sender(port, "head", stop)) for _ in range(n)]
    bodies = [asyncio.ensure_future(slow_sender(port, "body", stop)) for _ in range(n)]
    idles = asyncio.ensure_future(idle(port, n_idle))
    await asyncio.sleep(1)
    lat, codes = await polite(port, 20)
    h = await asyncio.gather(*heads)
    b = await asyncio.gather(*bodies)
    i = await idles
    stop.set()
    await watcher
    return {"row": "slowloris and idle flood", "slow_header_conns": n, "slow_body_conns": n, "idle_conns": n_idle,
            "fds_before": fd0, "fds_peak": peak[0], "fds_after": fds(pid),
            "head_cut_max_s": round(max(h), 1), "body_cut_max_s": round(max(b), 1),
            "idle_cut_max_s": round(max(i), 1),
            "polite_p50_ms": pct(lat, .5), "polite_p99_ms": pct(lat, .99), "polite_codes": codes}

async def main():
    port, pid, row = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if row == "storm":
        res = await storm(port, int(sys.argv[4]), pid)
    elif row == "clients":
        res = await clients(port, int(sys.argv[4]), pid)
    else:
        res = await slowloris(port, pid, int(sys.argv[4]), int(sys.argv[5]))
    print(json.dumps(res))

if __name__ == "__main__":
    asyncio.run(main())
