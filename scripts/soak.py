#!/usr/bin/env python3
"""Soak and fault suite for curio servers (not part of `cargo test`).

Runs the tutorial's line echo server (`examples/echo.rs`) and chat server
(`examples/chat.rs`), release builds, as separate processes, and attacks
them over loopback the way a busy or hostile client would:

  held       10,000 connections open at once, each echoing a line
  churn      100,000+ connect / line / close cycles, 100 at a time
  resets     10,000 connections reset (SO_LINGER 0) in the middle of a line
  slowloris  1,000 clients trickling a byte every 100 ms, never a newline
  long-line  a client sending 100 MB without a newline
  no-reader  clients sending lines and never reading the echo
  fd-limit   the server started with 256 fds, then 1,000 clients at once
  chat       the chat server with a client that talks and never reads

After each phase it checks that the server still answers, that its fds
are back to what they were, and that its memory stayed flat; churn also
compares the CPU time per connection of its first and last 10,000. It
prints one table row per phase and exits non-zero if a check failed.

    python3 scripts/soak.py            # everything, curio and tokio (2-3 minutes)
    python3 scripts/soak.py churn held # some phases
    python3 scripts/soak.py --servers echo churn
    SOAK_CHURN=400000 python3 scripts/soak.py churn

Servers (`--servers`, comma-separated; default `echo,tokio-lines`):
`echo` is the tutorial's example; `curio-lines` and `tokio-lines` are the
line echo servers of the echo benchmark (`bench/benches/echo.rs`, tokio's
`current_thread` runtime with `read_until` / `write_all`), for a side by
side. The chat phase runs against curio's chat example only.

Python's asyncio is the load generator: a peer that is not curio.
"""

import asyncio
import os
import resource
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
BENCH = None
TICK = os.sysconf("SC_CLK_TCK")


def raise_fd_limit(limit=65536):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(limit, hard) if hard != resource.RLIM_INFINITY else limit
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def bench_binary():
    """The echo benchmark's executable (its `--server KIND PORT` mode)."""
    import json

    out = subprocess.run(
        ["cargo", "bench", "--manifest-path", "bench/Cargo.toml", "--bench", "echo",
         "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == "echo":
            return msg["executable"]
    raise RuntimeError("the echo benchmark was not built")


class Server:
    """A server process, and what /proc says about it."""

    def __init__(self, example, nofile=65536):
        self.example = example
        self.port = free_port()
        if example in ("echo", "chat"):
            argv = [os.path.join(ROOT, "target", "release", "examples", example),
                    str(self.port), HOST]
        else:
            argv = [BENCH, "--server", example, str(self.port)]

        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY:
            nofile = min(nofile, hard)

        def limits():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=limits,
        )
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"{example} did not start")
                time.sleep(0.02)
        time.sleep(0.05)

    def status(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise KeyError(field)

    def rss_mb(self):
        return self.status("VmRSS") / 1024

    def peak_mb(self):
        return self.status("VmHWM") / 1024

    def reset_peak(self):
        """Starts the peak (VmHWM) over from the current RSS."""
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def cpu(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()


async def echo_line(line=b"hello\n", timeout=5.0):
    """One connection: a line there and back."""
    r, w = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), timeout)
    w.write(line)
    got = await asyncio.wait_for(r.readline(), timeout)
    w.close()
    await w.wait_closed()
    return got == line


async def answers(example="echo"):
    """Whether the server still answers promptly: the echo server echoes
    a line, the chat server says back what a newcomer says."""
    try:
        if example != "chat":
            return await echo_line(b"still there?\n", timeout=5.0)
        r, w = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 5)
        await asyncio.wait_for(r.readexactly(len(b"Your name: ")), 5)
        w.write(b"probe\nping\n")
        while True:
            line = await asyncio.wait_for(r.readline(), 5)
            if not line:
                return False
            if line == b"probe:ping\n":
                w.transport.abort()
                return True
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        return False


async def settle(server, fds, seconds=5.0):
    """Waits until the server's fds are back to `fds` (closes are seen at
    the server's next look); whether they are."""
    deadline = time.time() + seconds
    while server.fds() > fds and time.time() < deadline:
        await asyncio.sleep(0.05)
    return server.fds() <= fds


async def bounded(n, limit, job):
    """Runs `job(i)` for i in range(n), at most `limit` at once."""
    sem = asyncio.Semaphore(limit)
    results = []

    async def one(i):
        async with sem:
            results.append(await job(i))

    await asyncio.gather(*(one(i) for i in range(n)))
    return results


# ---------------------------------------------------------------- phases


async def held(server):
    n = int(os.environ.get("SOAK_HELD", 10_000))
    conns = []

    async def connect(i):
        r, w = await asyncio.open_connection(HOST, PORT)
        w.write(b"x\n")
        ok = await r.readline() == b"x\n"
        conns.append(w)
        return ok

    oks = await bounded(n, 500, connect)
    rss_held = server.rss_mb()
    await asyncio.sleep(float(os.environ.get("SOAK_HOLD_SECS", 5)))
    for w in conns:
        w.close()
    return {"conns": n, "ok": all(oks), "note": f"{rss_held:.1f} MB held"}


async def churn(server):
    n = int(os.environ.get("SOAK_CHURN", 100_000))
    block = 10_000
    cpu_first = cpu_last = None
    rss_after_first = None
    done = 0
    while done < n:
        c0 = server.cpu()
        oks = await bounded(min(block, n - done), 100, lambda i: echo_line())
        assert all(oks), "a connection failed"
        per = (server.cpu() - c0) / block * 1e6
        if cpu_first is None:
            cpu_first = per
            rss_after_first = server.rss_mb()
        cpu_last = per
        done += block
    growth = server.rss_mb() - rss_after_first
    flat_cpu = cpu_last <= 1.5 * cpu_first + 5
    return {
        "conns": n,
        "ok": flat_cpu and growth < 2.0,
        "cpu": f"{cpu_first:.0f} -> {cpu_last:.0f}",
        "note": f"RSS +{growth:.2f} MB after the first 10k",
    }


async def resets(server):
    n = 10_000

    async def reset(i):
        r, w = await asyncio.open_connection(HOST, PORT)
        w.write(b"half a li")
        await w.drain()
        sock = w.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.close()
        return True

    await bounded(n, 200, reset)
    return {"conns": n, "ok": True}


async def slowloris(server):
    n, secs = 1000, 5.0
    conns = []

    async def connect(i):
        r, w = await asyncio.open_connection(HOST, PORT)
        conns.append(w)
        return True

    await bounded(n, 200, connect)
    worst = 0.0
    end = time.time() + secs
    while time.time() < end:
        for w in conns:
            w.write(b"x")
        t0 = time.time()
        if not await answers():
            return {"conns": n, "ok": False, "note": "the server stopped answering"}
        worst = max(worst, time.time() - t0)
        await asyncio.sleep(0.1)
    for w in conns:
        w.close()
    return {"conns": n, "ok": worst < 1.0, "note": f"probe worst {worst * 1000:.0f} ms"}


async def long_line(server):
    r, w = await asyncio.open_connection(HOST, PORT)
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        while sent < 100 << 20:
            w.write(chunk)
            await asyncio.wait_for(w.drain(), 10)
            sent += len(chunk)
    except (OSError, asyncio.TimeoutError):
        pass
    w.transport.abort()
    refused = sent < 100 << 20
    return {
        "conns": 1,
        "ok": refused and server.peak_mb() < 64,
        "note": f"refused after {sent >> 20} MB sent",
    }


async def no_reader(server):
    n = 20
    line = b"y" * 1000 + b"\n"

    async def flood(i):
        r, w = await asyncio.open_connection(HOST, PORT)
        sent = 0
        try:
            while sent < 20 << 20:
                w.write(line * 64)
                await asyncio.wait_for(w.drain(), 0.5)
                sent += len(line) * 64
        except (OSError, asyncio.TimeoutError):
            pass
        return w

    writers = await asyncio.gather(*(flood(i) for i in range(n)))
    rss = server.rss_mb()
    ok = await answers()
    for w in writers:
        # `close` would wait to flush to a server that waits for us.
        w.transport.abort()
    return {"conns": n, "ok": ok, "note": f"RSS {rss:.1f} MB while stalled"}


async def fd_limit(server):
    # This phase runs against a server of its own with 256 fds.
    n = 1000
    conns = []

    async def connect(i):
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 5)
            conns.append(w)
        except (OSError, asyncio.TimeoutError):
            pass
        return True

    await bounded(n, 200, connect)
    await asyncio.sleep(0.5)
    starved = server.alive()
    for w in conns:
        w.transport.abort()
    await asyncio.sleep(0.5)
    ok = starved and await answers()
    return {"conns": n, "ok": ok, "note": "served again after the fds came back"}


async def chat(server):
    """A chat client that talks and never reads, beside one that reads."""
    async def join(name):
        r, w = await asyncio.open_connection(HOST, PORT)
        await r.readexactly(len(b"Your name: "))
        w.write(name + b"\n")
        return r, w

    reader_r, reader_w = await join(b"reader")

    async def drain_reader():
        try:
            while await reader_r.readline():
                pass
        except OSError:
            pass

    drainer = asyncio.ensure_future(drain_reader())
    rss0 = server.rss_mb()
    _, flood_w = await join(b"flood")
    sent = 0
    try:
        while sent < 200 << 20:
            flood_w.write(b"z" * 8000 + b"\n")
            await asyncio.wait_for(flood_w.drain(), 2)
            sent += 8001
    except (OSError, asyncio.TimeoutError):
        pass
    growth = server.rss_mb() - rss0
    flood_w.transport.abort()
    reader_w.transport.abort()
    drainer.cancel()
    return {
        "conns": 2,
        "ok": growth < 32 and sent < 200 << 20,
        "note": f"flood cut off after {sent >> 20} MB; RSS +{growth:.1f} MB",
    }


PHASES = [
    ("held", held, 65536),
    ("churn", churn, 65536),
    ("resets", resets, 65536),
    ("slowloris", slowloris, 65536),
    ("long-line", long_line, 65536),
    ("no-reader", no_reader, 65536),
    ("fd-limit", fd_limit, 256),
    ("chat", chat, 65536),
]


async def run_phase(name, phase, server):
    global PORT
    PORT = server.port
    await answers(server.example)
    await settle(server, 0, 0.5)
    fds0, rss0 = server.fds(), server.rss_mb()
    server.reset_peak()
    t0 = time.time()
    result = await phase(server)
    fds_back = await settle(server, fds0)
    await asyncio.sleep(0.2)
    still = server.alive() and await answers(server.example)
    result.setdefault("cpu", "")
    result.setdefault("note", "")
    ok = result["ok"] and fds_back and still
    rss1 = server.rss_mb() if server.alive() else float("nan")
    peak = server.peak_mb() if server.alive() else float("nan")
    fds1 = server.fds() if server.alive() else "dead"
    print(
        f"| {server.example} | {name} | {result['conns']} | {time.time() - t0:.1f} "
        f"| {rss0:.1f} -> {rss1:.1f} | {peak:.1f} | {fds0} -> {fds1} | {result['cpu']} | "
        f"{'ok' if ok else 'FAIL'} | {result['note']} |",
        flush=True,
    )
    return ok


async def main(args):
    global BENCH
    raise_fd_limit()
    servers = ["echo", "tokio-lines"]
    if "--servers" in args:
        at = args.index("--servers")
        servers = args[at + 1].split(",")
        args = args[:at] + args[at + 2:]
    wanted = set(args)
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--example", "echo", "--example", "chat"],
        cwd=ROOT,
        check=True,
    )
    if any(s not in ("echo", "chat") for s in servers):
        BENCH = bench_binary()
    print("| server | phase | conns | secs | server RSS MB | peak MB | fds "
          "| CPU µs/conn (first -> last 10k) | result | note |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    all_ok = True
    for kind in servers:
        shared = None
        for name, phase, nofile in PHASES:
            if wanted and name not in wanted:
                continue
            if name == "chat":
                if kind != "echo":
                    continue
                server = Server("chat", nofile)
            elif nofile == 65536:
                shared = shared or Server(kind)
                server = shared
            else:
                server = Server(kind, nofile)
            try:
                # The checks are about curio; the peer's rows are for
                # comparison.
                ok = await run_phase(name, phase, server)
                all_ok &= ok or kind.startswith("tokio")
            finally:
                if server is not shared:
                    server.stop()
        if shared:
            shared.stop()
    return all_ok


if __name__ == "__main__":
    ok = asyncio.run(main(sys.argv[1:]))
    sys.exit(0 if ok else 1)
