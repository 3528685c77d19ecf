#!/usr/bin/env python3
"""manta between two nodes against raw gRPC between two processes, in one run.

    cluster_vs_raw.py [--build DIR] [--rounds N] [--seconds S]
                      [--transfer-sizes LIST] [--reps N] [--json FILE]
                      [--tls DIR]

Runs raw_grpc_bench (the floor: plain gRPC over loopback) and cluster_bench
(a driver and a head node over loopback) one after the other, N rounds,
alternating which goes first so that a drift in the machine's load touches
both alike. Writes one JSON: the median of each figure over the rounds
("raw", "manta"), the ratios the issue sets bars on ("ratios", each the
median of the ratios of the same round), whether each bar is met ("bars"),
every round's figures and the machine.

With --tls DIR (ca.pem, node.pem, node.key, client.pem, client.key from
scripts/tls-generate.sh), each round also runs both programs over mutual
TLS: raw_grpc_bench --tls DIR, and cluster_bench with MANTA_TLS_* set (its
head and its driver then speak TLS). The JSON gains "raw_tls", "manta_tls",
"ratios_tls" (the same ratios, TLS against TLS) and "tls_cost" (each
figure with TLS over the same without, both programs).

The programs are found in the build directory (default: build/), or named
with --raw-bench, --cluster-bench, --manta, --module. Only Python's
standard library is used.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile

# Neither program should take this long; a hung child fails the run.
CHILD_TIMEOUT = 1800

# Ratio name -> (manta figure, raw figure, bar). A bar is (">=", x) or
# ("<=", x). Transfer ratios are added per size (see ratio_specs).
TASK_RATIOS = {
    "tasks_async_vs_bidi": ("remote_tasks_async_per_second",
                            "stream_msgs_64B_per_second", (">=", 1.0)),
    "task_sync_p50_vs_unary_p50": ("remote_task_sync_p50_us",
                                   "unary_rtt_64B_p50_us", ("<=", 1.2)),
    "actor_calls_async_vs_bidi": ("remote_actor_calls_async_per_second",
                                  "stream_msgs_64B_per_second", (">=", 1.0)),
    "actor_call_sync_p50_vs_unary_p50": ("remote_actor_call_sync_p50_us",
                                         "unary_rtt_64B_p50_us",
                                         ("<=", 1.2)),
}
TRANSFER_BAR = (">=", 0.7)


def fail(msg):
    print("cluster_vs_raw: " + msg, file=sys.stderr)
    sys.exit(1)


def ratio_specs(sizes):
    specs = dict(TASK_RATIOS)
    for size in sizes:
        raw = "pull_1MiB_chunks_%s" % size
        for kind in ("transfer", "transfer_result"):
            manta = "%s_%s_mb_per_s" % (kind, size)
            specs["%s_%s_vs_raw" % (kind, size)] = (manta, raw + "_mb_per_s",
                                                    TRANSFER_BAR)
            # Beside it, without a bar: raw gRPC that also copies each
            # chunk into one buffer, as a fetched object must be assembled.
            specs["%s_%s_vs_raw_copy" % (kind, size)] = (
                manta, raw + "_copy_mb_per_s", None)
    return specs


def tls_env(tls):
    """The environment that puts manta's head and driver on mutual TLS."""
    env = dict(os.environ)
    env.update(MANTA_TLS_CERT=os.path.join(tls, "client.pem"),
               MANTA_TLS_KEY=os.path.join(tls, "client.key"),
               MANTA_TLS_CA=os.path.join(tls, "ca.pem"))
    return env


def run(cmd, env=None):
    """Runs cmd (in env, if given), its stderr passed through; its stdout."""
    print("cluster_vs_raw: " + ("[TLS] " if env else "") +
          " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                              timeout=CHILD_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        fail("%s ran longer than %d s" % (cmd[0], CHILD_TIMEOUT))
    except OSError as e:
        fail("cannot run %s: %s" % (cmd[0], e))
    if done.returncode != 0:
        fail("%s exited with %d" % (cmd[0], done.returncode))
    return done.stdout


def flat_figures(cases):
    """(name, record, MB/s per unit or None) triples as flat figures:
    rates as <name>_per_second or <name>_mb_per_s, latencies as
    <name>_p50_us and <name>_p99_us."""
    out = {}
    for name, r, mb_per_unit in cases:
        if mb_per_unit:
            out[name + "_mb_per_s"] = r["per_second"] * mb_per_unit
        else:
            out[name + "_per_second"] = r["per_second"]
        if "p50_us" in r:
            out[name + "_p50_us"] = r["p50_us"]
            out[name + "_p99_us"] = r["p99_us"]
    return out


def raw_figures(doc):
    """raw_grpc_bench's JSON: a list of cases, pulls in GB/s."""
    return flat_figures((r["name"], r, 1000 if r["unit"] == "GB" else None)
                        for r in doc["results"])


def manta_figures(doc):
    """cluster_bench's JSON: cases by name, transfers in MB/s."""
    return flat_figures((name, r, 1 if r.get("unit") == "MB/s" else None)
                        for name, r in doc.items())


def ratios_of(manta, raw, specs):
    out = {}
    for name, (m, r, _) in specs.items():
        ok = m in manta and raw.get(r)
        out[name] = round(manta[m] / raw[r], 4) if ok else None
    return out


def medians(dicts):
    keys = []
    for d in dicts:
        keys += [k for k in d if k not in keys]
    out = {}
    for k in keys:
        vals = [d[k] for d in dicts if d.get(k) is not None]
        out[k] = statistics.median(vals) if vals else None
    return out


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def machine(grpc_version, load_before, load_after):
    model = "unknown"
    mem_kib = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpus_online": os.cpu_count(),
        "cpu_model": model,
        "kernel": "%s %s" % (platform.system(), platform.release()),
        "memory_gib": round(mem_kib / 2**20, 1) if mem_kib else None,
        "grpc_core_version": grpc_version,
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def git_commit(path):
    try:
        return subprocess.run(["git", "-C", path, "rev-parse", "HEAD"],
                              capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build",
                   help="the build directory (default: build)")
    p.add_argument("--raw-bench", help="raw_grpc_bench (default: in --build)")
    p.add_argument("--cluster-bench",
                   help="cluster_bench (default: in --build)")
    p.add_argument("--manta", help="the manta program (default: in --build)")
    p.add_argument("--module",
                   help="bench_module's library (default: in --build)")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of both programs (default 3)")
    p.add_argument("--seconds", type=float, default=2,
                   help="time per case of either program (default 2)")
    p.add_argument("--transfer-sizes", default="64MiB,1GiB",
                   help="object and pull sizes (default 64MiB,1GiB)")
    p.add_argument("--reps", type=int, default=5,
                   help="timed transfers per size and direction (default "
                        "5; cluster_bench does at most 3 from 512MiB)")
    p.add_argument("--json", help="where to write the JSON (default stdout)")
    p.add_argument("--tls", help="also measure both over mutual TLS with "
                   "the certificates in this folder")
    a = p.parse_args()
    if a.rounds < 1 or a.rounds > 20:
        fail("--rounds takes 1 to 20, not %d" % a.rounds)
    if not 0 < a.seconds <= 3600:
        fail("--seconds takes a number above 0 and up to 3600")
    sizes = [s for s in a.transfer_sizes.split(",") if s]
    if not sizes:
        fail("--transfer-sizes needs at least one size, such as 64MiB")
    tls = os.path.abspath(a.tls) if a.tls else None
    if tls:
        for name in ("ca.pem", "node.pem", "node.key", "client.pem",
                     "client.key"):
            if not os.path.isfile(os.path.join(tls, name)):
                fail("--tls: %s has no %s (scripts/tls-generate.sh %s; "
                     "and --name client)" % (tls, name, tls))

    bench_dir = os.path.join(a.build, "bench")
    raw_bench = a.raw_bench or os.path.join(bench_dir, "raw_grpc_bench")
    cluster_bench = a.cluster_bench or os.path.join(bench_dir, "cluster_bench")
    manta = a.manta or os.path.join(a.build, "runtime", "manta")
    module = os.path.abspath(
        a.module or os.path.join(bench_dir, "libbench_module.so"))
    for what, path in (("raw_grpc_bench", raw_bench),
                       ("cluster_bench", cluster_bench), ("manta", manta),
                       ("bench_module", module)):
        if not os.path.isfile(path):
            fail("%s not found at %s (build it, or name it)" % (what, path))

    specs = ratio_specs(sizes)
    load_before = load_average()
    rounds, raw_runs, manta_runs = [], [], []
    grpc_version = None
    modes = ["plain", "tls"] if tls else ["plain"]
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.rounds):
            order = ["raw", "manta"] if i % 2 == 0 else ["manta", "raw"]
            rnd = {"order": order, "load_average_at_start": load_average()}
            for mode in modes:
                sfx = "_tls" if mode == "tls" else ""
                for which in order:
                    if which == "raw":
                        cmd = [raw_bench, "--json", "--seconds",
                               str(a.seconds), "--pull-totals",
                               ",".join(sizes)]
                        doc = json.loads(run(cmd + (["--tls", tls]
                                                    if sfx else [])))
                        grpc_version = doc.get("grpc_core_version")
                        raw_runs.append(doc)
                        rnd["raw" + sfx] = raw_figures(doc)
                    else:
                        out = os.path.join(tmp, "cluster-%d%s.json" % (i, sfx))
                        sys.stderr.write(run([
                            cluster_bench, "--manta", manta, "--module",
                            module, "--seconds", str(a.seconds),
                            "--transfer-sizes", ",".join(sizes), "--reps",
                            str(a.reps), "--json", out],
                            env=tls_env(tls) if sfx else None))
                        with open(out) as f:
                            doc = json.load(f)
                        manta_runs.append(doc)
                        rnd["manta" + sfx] = manta_figures(doc)
                rnd["ratios" + sfx] = ratios_of(rnd["manta" + sfx],
                                                rnd["raw" + sfx], specs)
            if tls:
                rnd["tls_cost"] = {
                    which: {k: round(v / rnd[which][k], 4)
                            for k, v in rnd[which + "_tls"].items()
                            if rnd[which].get(k)}
                    for which in ("raw", "manta")}
            rounds.append(rnd)

    ratios = medians([r["ratios"] for r in rounds])
    bars = {}
    for name, (_, _, bar) in specs.items():
        if bar is None:
            continue
        value = ratios.get(name)
        met = None
        if value is not None:
            met = value >= bar[1] if bar[0] == ">=" else value <= bar[1]
        bars[name] = {"bar": "%s %g" % bar, "value": value, "met": met}
    here = os.path.dirname(os.path.abspath(__file__))
    result = {
        "benchmark": "cluster_vs_raw",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(shlex.quote(c) for c in sys.argv),
        "commit": git_commit(here),
        "machine": machine(grpc_version, load_before, load_average()),
        "settings": {"rounds": a.rounds, "seconds": a.seconds,
                     "transfer_sizes": sizes, "reps": a.reps},
        "raw": medians([r["raw"] for r in rounds]),
        "manta": medians([r["manta"] for r in rounds]),
        "ratios": ratios,
        "bars": bars,
        "tls": bool(tls),
        "rounds": rounds,
        "raw_runs": raw_runs,
        "manta_runs": manta_runs,
    }
    if tls:
        result["raw_tls"] = medians([r["raw_tls"] for r in rounds])
        result["manta_tls"] = medians([r["manta_tls"] for r in rounds])
        result["ratios_tls"] = medians([r["ratios_tls"] for r in rounds])
        result["tls_cost"] = {
            which: medians([r["tls_cost"][which] for r in rounds])
            for which in ("raw", "manta")}
    text = json.dumps(result, indent=1) + "\n"
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    for name, b in bars.items():
        v = "not measured" if b["value"] is None else "%.3f" % b["value"]
        met = {True: "met", False: "NOT met", None: "-"}[b["met"]]
        tv = ""
        if tls and result["ratios_tls"].get(name) is not None:
            tv = "  over TLS %.3f" % result["ratios_tls"][name]
        print("%-40s %12s  bar %-7s %s%s" % (name, v, b["bar"], met, tv),
              file=sys.stderr)


if __name__ == "__main__":
    main()
