"""broadcast, big_object and idle: moving objects between node processes on
loopback, and what a node at rest costs (docs/benchmarks.md, "Scale").

    scale_transfer.py --manta PATH --module PATH --scale PATH
                      [--cases broadcast,big_object,idle]
                      [--broadcast-bytes 1G] [--receivers 1,2,4,8]
                      [--big-bytes 1G,4G,8G] [--idle-seconds 60]
                      [--floor PATH] [--check] [--json FILE]

- broadcast: for each count N, a head, a source node and N receiving
  nodes (`manta start`, one CPU slot each, the benchmark module loaded;
  the head only keeps the directory, so that its heartbeats are not
  served by a process busy sending the object); the
  source makes an object of --broadcast-bytes, then every receiver runs a
  task taking it as argument, all at once (`scale --broadcast`). The time
  from the first submission to the last result, the bytes the source's TCP
  sockets sent meanwhile (`ss`, sampled every 0.2 s: its upload), the
  bytes the driver received, and each receiver's peak RSS beyond the
  object.
- big_object: the same with one receiver, for each of --big-bytes: an
  object as large as the machine's memory allows, fetched with bounded
  memory in flight (the receiver's peak RSS beyond the object, VmHWM). A
  size is skipped, and the JSON says why, when MemAvailable is under
  2.1 times the size plus 1 GiB (the source and the receiver each hold
  the object; the driver, which passes the ref on, fetches none of it).
- idle: a head and one node at rest for --idle-seconds: each process's
  CPU as a share of one core, and its RSS sampled every 5 s (how much it
  moved over the window).
- floor (with --floor PATH, the broadcast_floor program): beside each
  broadcast, the same object along a chain of N plain processes over
  loopback TCP with no runtime, in the same run; each broadcast row gets
  the floor's time and both times as multiples of their own 1-receiver
  figure (`vs_first`), so what the machine allows for N receivers is
  measured, not assumed.
--check makes the receivers compare every byte with what the source made
(bench_check) and the run fails unless all are intact. Every process
started is stopped when the run ends, failed or not.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from scale_nodes import Cluster, cpu_s, fail, rss_bytes, socket_bytes

DRIVER_TIMEOUT_S = 1800
GIB = 1 << 30


def size_arg(text):
    """'1G', '512M', '4096': bytes."""
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper())
    try:
        return int(float(text[:-1]) * mult) if mult else int(text)
    except ValueError:
        fail("a size such as 1G, 512M or 4096, not %r" % text)


def status_field(pid, key):
    """A field of /proc/PID/status in bytes (VmHWM, VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def node_ids(c):
    """The node id of each process of c, in start order."""
    by_pid = {n["pid"]: n["node_id"] for n in c.status()["nodes"]}
    return [by_pid[p] for p in c.pids()]


def transfer_row(args, env, receivers, nbytes):
    """transfer(), or a row saying why it failed (the run goes on to the
    other sizes, and exits 1 at the end)."""
    try:
        return transfer(args, env, receivers, nbytes)
    except RuntimeError as e:
        print("scale_transfer: %s" % e, file=sys.stderr)
        return {"bytes": nbytes, "receivers": receivers, "failed": str(e)}


def transfer(args, env, receivers, nbytes):
    """One object of nbytes made by a node and read by `receivers` other
    nodes at once; the row of figures."""
    # The object store keeps 30% of the memory available by default; an
    # object larger than that would be refused, so each node may hold it.
    env = dict(env, MANTA_OBJECT_STORE_MEMORY="%dMiB"
               % ((nbytes * 5 // 4 >> 20) + 256))
    c = Cluster(args.manta, args.module, env)
    try:
        c.start(receivers + 2)
        ids = node_ids(c)[1:]  # the source, then the receivers
        pids = c.pids()[1:]
        rss0 = [rss_bytes(p) for p in pids]
        sent0 = socket_bytes(pids[0])
        cpu0 = [cpu_s(p) for p in pids]
        cmd = [args.scale, "--broadcast", c.address, str(nbytes)] + ids
        # Sampled while the driver runs: its link to the source closes
        # when it exits, and a closed socket is no longer counted.
        sent, driver_got = 0, 0
        with subprocess.Popen(cmd + (["--check"] if args.check else []),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) as d:
            deadline = time.monotonic() + DRIVER_TIMEOUT_S
            while d.poll() is None and time.monotonic() < deadline:
                sent = max(sent, socket_bytes(pids[0]))
                driver_got = max(driver_got,
                                 socket_bytes(d.pid, "bytes_received"))
                time.sleep(0.2)
            if d.poll() is None:
                d.kill()
            out, err = d.communicate()
        if d.returncode != 0:
            raise RuntimeError("scale --broadcast failed (%s): %s"
                               % (d.returncode, err.strip()[-2000:]))
        row = json.loads(out)
        row["source_sent_bytes"] = max(sent, socket_bytes(pids[0])) - sent0
        row["driver_received_bytes"] = driver_got
        row["source_sent_per_receiver"] = row["source_sent_bytes"] / receivers
        peaks = [status_field(p, "VmHWM") - r0
                 for p, r0 in zip(pids[1:], rss0[1:])]
        row["receiver_peak_rss_beyond_object_bytes_max"] = \
            max(peaks) - nbytes
        row["source_peak_rss_beyond_object_bytes"] = \
            status_field(pids[0], "VmHWM") - rss0[0] - nbytes
        row["cpu_s"] = {"source": cpu_s(pids[0]) - cpu0[0],
                        "receivers": sum(cpu_s(p) - c0 for p, c0 in
                                         zip(pids[1:], cpu0[1:]))}
        return row
    finally:
        c.stop()


def add_floor(args, rows, row, receivers, nbytes):
    """The plain chain's time for this count, run right after manta's, and
    both as multiples of their first row's (rows[0])."""
    out = subprocess.run([args.floor, "--bytes", str(nbytes), "--receivers",
                          str(receivers)], capture_output=True, text=True,
                         timeout=DRIVER_TIMEOUT_S)
    if out.returncode != 0:
        raise RuntimeError("broadcast_floor failed: %s" % out.stderr.strip())
    floor = json.loads(out.stdout)["floor"][0]
    row["floor_s"] = floor["seconds"]
    row["floor_receivers_cpu_s"] = floor["receivers_cpu_s"]
    first = rows[0]
    if "floor_s" in first:
        row["vs_first"] = row["total_s"] / first["total_s"]
        row["floor_vs_first"] = row["floor_s"] / first["floor_s"]
    print("  floor (plain chain): %.2f s%s" % (
        row["floor_s"], "; vs 1 receiver: manta %.2fx, floor %.2fx"
        % (row["vs_first"], row["floor_vs_first"]) if "vs_first" in row
        else ""), file=sys.stderr)


def idle(args, env):
    c = Cluster(args.manta, args.module, env)
    try:
        c.start(2)
        pids = c.pids()
        time.sleep(2)  # past the start's own work
        cpu0 = [cpu_s(p) for p in pids]
        samples = [[rss_bytes(p)] for p in pids]
        t0 = time.monotonic()
        while time.monotonic() - t0 < args.idle_seconds:
            time.sleep(min(5, max(0.05, args.idle_seconds -
                                  (time.monotonic() - t0))))
            for s, p in zip(samples, pids):
                s.append(rss_bytes(p))
        wall = time.monotonic() - t0
        rows = []
        for name, p, s, c0 in zip(("head", "node"), pids, samples, cpu0):
            rows.append({"process": name,
                         "cpu_share_of_core": (cpu_s(p) - c0) / wall,
                         "rss_bytes_first": s[0], "rss_bytes_last": s[-1],
                         "rss_bytes_min": min(s), "rss_bytes_max": max(s),
                         "rss_samples": len(s)})
        return {"seconds": round(wall, 3), "processes": rows}
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manta", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--cases", default="broadcast,big_object,idle")
    ap.add_argument("--broadcast-bytes", default="1G")
    ap.add_argument("--receivers", default="1,2,4,8")
    ap.add_argument("--big-bytes", default="1G,4G,8G")
    ap.add_argument("--idle-seconds", type=float, default=60)
    ap.add_argument("--floor")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    cases = args.cases.split(",")
    for case in cases:
        if case not in ("broadcast", "big_object", "idle"):
            fail("--cases takes broadcast, big_object and idle, not %r"
                 % case)
    try:
        counts = [int(x) for x in args.receivers.split(",")]
    except ValueError:
        fail("--receivers wants counts such as 1,2,4,8, not %r"
             % args.receivers)
    if not counts or min(counts) < 1 or max(counts) > 64:
        fail("--receivers wants counts from 1 to 64")
    bbytes = size_arg(args.broadcast_bytes)
    big = [size_arg(x) for x in args.big_bytes.split(",")]
    if not 0 < args.idle_seconds <= 3600:
        fail("--idle-seconds wants 0 to 3600")
    for path in (args.manta, args.module, args.scale) + \
            ((args.floor,) if args.floor else ()):
        if not os.path.exists(path):
            fail("no such file: %s" % path)
    doc = {"machine": {"cpus_online": os.cpu_count(),
                       "mem_available_bytes": mem_available(),
                       "kernel": platform.system() + " " + platform.release()}}
    with tempfile.TemporaryDirectory() as state:
        env = dict(os.environ, MANTA_STATE_DIR=state)
        env.pop("MANTA_ADDRESS", None)
        if "broadcast" in cases:
            doc["broadcast"] = []
            for n in counts:
                row = transfer_row(args, env, n, bbytes)
                doc["broadcast"].append(row)
                if "failed" in row:
                    continue
                if args.floor:
                    add_floor(args, doc["broadcast"], row, n, bbytes)
                print("broadcast %.0f MiB to %d: %.2f s, source sent %.0f "
                      "MiB (%.2f per receiver), driver got %.0f MiB"
                      % (bbytes / 2**20, n, row["total_s"],
                         row["source_sent_bytes"] / 2**20,
                         row["source_sent_per_receiver"] / bbytes,
                         row["driver_received_bytes"] / 2**20),
                      file=sys.stderr)
        if "big_object" in cases:
            doc["big_object"] = []
            for nbytes in big:
                avail = mem_available()
                if avail < 2.1 * nbytes + GIB:
                    doc["big_object"].append(
                        {"bytes": nbytes, "skipped":
                         "only %.1f GiB of memory available" % (avail / GIB)})
                    print("big_object %.1f GiB: skipped" % (nbytes / GIB),
                          file=sys.stderr)
                    continue
                row = transfer_row(args, env, 1, nbytes)
                doc["big_object"].append(row)
                if "failed" in row:
                    continue
                print("big_object %.2f GiB: %.2f s, receiver peak %.1f MiB "
                      "beyond the object"
                      % (nbytes / GIB, row["total_s"],
                         row["receiver_peak_rss_beyond_object_bytes_max"]
                         / 2**20), file=sys.stderr)
        if "idle" in cases:
            doc["idle"] = idle(args, env)
            for p in doc["idle"]["processes"]:
                print("idle %s: %.3f%% of a core, RSS %.1f to %.1f MiB"
                      % (p["process"], 100 * p["cpu_share_of_core"],
                         p["rss_bytes_min"] / 2**20,
                         p["rss_bytes_max"] / 2**20), file=sys.stderr)
    text = json.dumps(doc, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    if any("failed" in row for case in ("broadcast", "big_object")
           for row in doc.get(case, [])):
        sys.exit(1)


if __name__ == "__main__":
    main()
