"""many_nodes: what many node processes on loopback cost (docs/benchmarks.md).

    scale_nodes.py --manta PATH --module PATH --scale PATH
                   [--nodes 4,8,16] [--idle-seconds 60] [--tasks 10000]
                   [--json FILE]

For each count N: starts a head and N-1 nodes (`manta start`, one CPU slot
each, the benchmark module loaded), waits until `manta status` lists all N,
then
  - register: the head's CPU time and bytes written while the N-1 nodes
    joined, per node;
  - idle: samples every node's CPU time and RSS over --idle-seconds while
    nothing runs: CPU as a share of one core per node, RSS per node and its
    growth over the window; the bytes the head's TCP sockets sent (`ss`), per second and per heartbeat of the other nodes (one
    every MANTA_HEARTBEAT_MS, 300 ms by default);
  - status: how long one `manta status --json` of the whole cluster takes;
  - spread: `scale --spread` joins as a driver without slots and runs
    --tasks no-op tasks spread round-robin over the N nodes; how many each
    node ran comes from `manta status` afterwards.
Every process started is stopped when the run ends, failed or not, and the
cluster's state folder is a fresh temporary one.
"""
import argparse
import ctypes
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
START_TIMEOUT_S = 60
HEARTBEAT_MS = float(os.environ.get("MANTA_HEARTBEAT_MS") or 300)
STATUS_TIMEOUT_S = 60
SPREAD_TIMEOUT_S = 600


def fail(msg):
    print("scale_nodes: " + msg, file=sys.stderr)
    sys.exit(1)


def cpu_s(pid):
    """User plus system seconds of a process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def socket_bytes(pid, field="bytes_sent"):
    """Bytes the process's open TCP sockets have sent (or, with field
    "bytes_received", received), from `ss`: the kernel's tcp_info of
    each. A socket closed in between is no longer counted."""
    out = subprocess.run(["ss", "-tinpH"], capture_output=True, text=True,
                         timeout=STATUS_TIMEOUT_S).stdout
    total, mine, tag = 0, False, "pid=%d," % pid
    for line in out.splitlines():
        if not line.startswith("\t") and not line.startswith(" "):
            mine = tag in line
        elif mine:
            for item in line.split():
                if item.startswith(field + ":"):
                    total += int(item.split(":")[1])
    return total


def written_bytes(pid):
    return socket_bytes(pid)


def rss_bytes(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * PAGE


def die_with_parent():
    """Run in each child before exec: the kernel sends it SIGTERM if this
    script dies (a CTest timeout kills it without running its cleanup)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PDEATHSIG


class Cluster:
    """A head and nodes started as child processes; stop() ends them all."""

    def __init__(self, manta, module, env):
        self.manta, self.module, self.env = manta, module, env
        self.procs = []
        self.address = None

    def _start(self, args):
        p = subprocess.Popen([self.manta, "start", "--foreground",
                              "--num-cpus", "1", "--module", self.module]
                             + args, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=self.env,
                             text=True, preexec_fn=die_with_parent)
        self.procs.append(p)
        line = p.stdout.readline()  # "manta: head ready at ADDR (pid N)"
        if " ready at " not in line:
            fail("a node did not start: %r" % line)
        return line.split(" ready at ")[1].split()[0]

    def start(self, n):
        """Starts the cluster; the head's CPU seconds and bytes written
        while the other nodes joined."""
        self.address = self._start(["--head", "--port", "0"])
        head = self.procs[0].pid
        cpu0, wr0 = cpu_s(head), written_bytes(head)
        for _ in range(n - 1):
            self._start(["--address", self.address])
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if len(self.status()["nodes"]) == n:
                return cpu_s(head) - cpu0, written_bytes(head) - wr0
            time.sleep(0.2)
        fail("the cluster did not list %d nodes within %d s"
             % (n, START_TIMEOUT_S))

    def status(self):
        done = subprocess.run([self.manta, "status", "--json", "--address",
                               self.address], capture_output=True,
                              text=True, env=self.env,
                              timeout=STATUS_TIMEOUT_S)
        if done.returncode != 0:
            fail("manta status failed: %s" % done.stderr.strip())
        return json.loads(done.stdout)

    def pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


def idle(pids, seconds):
    cpu0 = {p: cpu_s(p) for p in pids}
    rss0 = {p: rss_bytes(p) for p in pids}
    wr0 = written_bytes(pids[0])
    rd0 = socket_bytes(pids[0], "bytes_received")
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    written = written_bytes(pids[0]) - wr0
    received = socket_bytes(pids[0], "bytes_received") - rd0
    beats = (len(pids) - 1) * wall * 1000.0 / HEARTBEAT_MS
    shares = [(cpu_s(p) - cpu0[p]) / wall for p in pids]
    rss1 = [rss_bytes(p) for p in pids]
    return {
        "seconds": round(wall, 3),
        "head_cpu_share_of_core": shares[0],
        "nodes_cpu_share_of_core_mean":
            sum(shares[1:]) / len(shares[1:]) if len(shares) > 1 else 0.0,
        "cpu_share_of_core_mean": sum(shares) / len(shares),
        "cpu_share_of_core_max": max(shares),
        "rss_bytes_mean": sum(rss1) / len(rss1),
        "rss_bytes_max": max(rss1),
        "rss_growth_bytes_max": max(r - rss0[p] for p, r in zip(pids, rss1)),
        "head_written_bytes_per_s": written / wall,
        # As if every node heartbeat every MANTA_HEARTBEAT_MS: nodes at
        # rest heartbeat less often (MANTA_HEARTBEAT_REST_MS).
        "head_written_bytes_per_heartbeat": written / beats if beats else 0.0,
        # What the nodes' heartbeats (and anything else) brought the head.
        "head_received_bytes_per_s": received / wall,
    }


def tasks_per_node(c, tasks):
    """How many tasks each node ran, from `manta status` (nodes report their
    counts with their heartbeats, so it polls, bounded, until all show)."""
    deadline = time.monotonic() + STATUS_TIMEOUT_S
    while True:
        counts = [node.get("tasks_finished", 0) for node in c.status()["nodes"]
                  if not node.get("is_driver")]
        if sum(counts) >= tasks:
            return sorted(counts)
        if time.monotonic() > deadline:
            fail("the nodes report %d of %d tasks run" % (sum(counts), tasks))
        time.sleep(0.2)


def one_count(args, n, env):
    c = Cluster(args.manta, args.module, env)
    try:
        t0 = time.monotonic()
        head_cpu, head_written = c.start(n)
        row = {"nodes": n, "start_s": round(time.monotonic() - t0, 3),
               "register": {
                   "head_cpu_s_per_node": head_cpu / max(n - 1, 1),
                   "head_written_bytes_per_node":
                       head_written / max(n - 1, 1)}}
        row["idle"] = idle(c.pids(), args.idle_seconds)
        t0 = time.monotonic()
        c.status()
        row["status_s"] = round(time.monotonic() - t0, 4)
        done = subprocess.run([args.scale, "--spread", c.address,
                               "bench_noop", str(args.tasks)],
                              capture_output=True, text=True, env=env,
                              timeout=SPREAD_TIMEOUT_S)
        if done.returncode != 0:
            fail("scale --spread failed: %s" % done.stderr.strip())
        row["spread"] = json.loads(done.stdout)
        row["spread"]["tasks_per_node"] = tasks_per_node(c, args.tasks)
        return row
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manta", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--nodes", default="4,8,16")
    ap.add_argument("--idle-seconds", type=float, default=60)
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--json")
    args = ap.parse_args()
    try:
        counts = [int(x) for x in args.nodes.split(",")]
    except ValueError:
        fail("--nodes wants counts such as 4,8,16, not %r" % args.nodes)
    if not counts or min(counts) < 1 or max(counts) > 256:
        fail("--nodes wants counts from 1 to 256, not %r" % args.nodes)
    if not 0 < args.idle_seconds <= 3600 or not 0 < args.tasks <= 10**7:
        fail("--idle-seconds wants 0 to 3600 and --tasks 1 to 10^7")
    for path in (args.manta, args.module, args.scale):
        if not os.path.exists(path):
            fail("no such file: %s" % path)
    rows = []
    with tempfile.TemporaryDirectory() as state:
        env = dict(os.environ, MANTA_STATE_DIR=state)
        env.pop("MANTA_ADDRESS", None)
        for n in counts:
            row = one_count(args, n, env)
            rows.append(row)
            print("many_nodes n=%-3d start %.2f s  idle cpu %.3f%% of a core"
                  " (head %.3f%%, max %.3f%%)  head writes %.0f B/s"
                  " (%.0f B/heartbeat), reads %.0f B/s  rss %.1f MiB/node"
                  "  status %.3f s  "
                  "%d tasks %.2f s (%.0f/s, %d to %d a node)"
                  % (n, row["start_s"],
                     100 * row["idle"]["cpu_share_of_core_mean"],
                     100 * row["idle"]["head_cpu_share_of_core"],
                     100 * row["idle"]["cpu_share_of_core_max"],
                     row["idle"]["head_written_bytes_per_s"],
                     row["idle"]["head_written_bytes_per_heartbeat"],
                     row["idle"]["head_received_bytes_per_s"],
                     row["idle"]["rss_bytes_mean"] / 2**20, row["status_s"],
                     row["spread"]["tasks"], row["spread"]["total_s"],
                     row["spread"]["tasks_per_s"],
                     row["spread"]["tasks_per_node"][0],
                     row["spread"]["tasks_per_node"][-1]), file=sys.stderr)
    doc = {"machine": {"cpus_online": os.cpu_count(),
                       "kernel": platform.system() + " " + platform.release()},
           "many_nodes": rows}
    text = json.dumps(doc, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
