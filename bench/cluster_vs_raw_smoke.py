"""Smoke test of cluster_vs_raw.py (CTest: bench_cluster_vs_raw_smoke).

    cluster_vs_raw_smoke.py RAW_BENCH CLUSTER_BENCH MANTA MODULE

Proves the one-run comparison works, not how fast: two tiny rounds (one of
each order) write JSON that parses, with every figure and ratio the issue
names and a verdict for every bar; a missing program and a bad argument
fail with a message.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "cluster_vs_raw.py")
TIMEOUT = 150
SIZES = ["256KiB", "3MiB"]  # above the 128 KiB inline limit: fetched


def fail(msg):
    print("smoke_test: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(args):
    return subprocess.run([sys.executable, SCRIPT] + args,
                          capture_output=True, text=True, timeout=TIMEOUT)


def number(doc, section, key):
    v = doc[section].get(key)
    if not isinstance(v, (int, float)) or not v > 0:
        fail("%s.%s is %r, not a positive number" % (section, key, v))


def check_run(programs):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.json")
        done = run(programs + ["--rounds", "2", "--seconds", "0.05",
                               "--transfer-sizes", ",".join(SIZES),
                               "--reps", "2", "--json", out])
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            fail("cluster_vs_raw.py exited with %d" % done.returncode)
        with open(out) as f:
            try:
                doc = json.load(f)
            except ValueError as e:
                fail("the output is not JSON: %s" % e)
    for key in ("raw", "manta", "ratios", "bars", "machine", "rounds"):
        if key not in doc:
            fail("the JSON lacks %r" % key)
    if [r["order"] for r in doc["rounds"]] != [["raw", "manta"],
                                              ["manta", "raw"]]:
        fail("rounds do not alternate: %s" % [r["order"] for r in doc["rounds"]])
    for key in ("unary_rtt_64B_p50_us", "stream_msgs_64B_per_second"):
        number(doc, "raw", key)
    for key in ("remote_tasks_async_per_second", "remote_task_sync_p50_us"):
        number(doc, "manta", key)
    ratios = ["tasks_async_vs_bidi", "task_sync_p50_vs_unary_p50"]
    for size in SIZES:
        number(doc, "raw", "pull_1MiB_chunks_%s_mb_per_s" % size)
        for kind in ("transfer", "transfer_result"):
            number(doc, "manta", "%s_%s_mb_per_s" % (kind, size))
            ratios += ["%s_%s_vs_raw" % (kind, size),
                       "%s_%s_vs_raw_copy" % (kind, size)]
    for name in ratios:
        number(doc, "ratios", name)
        if not name.endswith("_copy") and doc["bars"][name]["met"] not in (
                True, False):
            fail("bar %s has no verdict: %s" % (name, doc["bars"][name]))
    # The place of the actor rows: present, measured or not.
    for name in ("actor_calls_async_vs_bidi",
                 "actor_call_sync_p50_vs_unary_p50"):
        if name not in doc["ratios"] or name not in doc["bars"]:
            fail("%s is missing" % name)
    if doc["machine"]["cpus_online"] < 1:
        fail("machine: %s" % doc["machine"])


def check_tls(programs):
    gen = os.path.join(HERE, "..", "scripts", "tls-generate.sh")
    with tempfile.TemporaryDirectory() as tmp:
        certs = os.path.join(tmp, "tls")
        for extra in ([], ["--name", "client"]):
            subprocess.run(["bash", gen, certs] + extra, check=True,
                           capture_output=True, timeout=60)
        out = os.path.join(tmp, "out.json")
        done = run(programs + ["--rounds", "1", "--seconds", "0.05",
                               "--transfer-sizes", SIZES[1], "--reps", "1",
                               "--tls", certs, "--json", out])
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            fail("cluster_vs_raw.py --tls exited with %d" % done.returncode)
        with open(out) as f:
            doc = json.load(f)
    if doc.get("tls") is not True:
        fail("the JSON does not say tls")
    number(doc, "raw_tls", "unary_rtt_64B_p50_us")
    number(doc, "manta_tls", "remote_tasks_async_per_second")
    number(doc, "ratios_tls", "tasks_async_vs_bidi")
    if not doc["tls_cost"]["manta"].get("remote_tasks_async_per_second"):
        fail("no TLS cost of manta: %s" % doc["tls_cost"])


def check_errors(programs):
    missing = list(programs)
    missing[3] = os.path.join(HERE, "no-such-cluster-bench")
    done = run(missing)
    if done.returncode == 0 or "cluster_bench not found" not in done.stderr:
        fail("a missing program: exit %d, %r" % (done.returncode, done.stderr))
    done = run(programs + ["--rounds", "0"])
    if done.returncode == 0 or "--rounds" not in done.stderr:
        fail("--rounds 0: exit %d, %r" % (done.returncode, done.stderr))


def main():
    if len(sys.argv) != 5:
        fail("usage: cluster_vs_raw_smoke.py RAW_BENCH CLUSTER_BENCH MANTA "
             "MODULE")
    names = ["--raw-bench", "--cluster-bench", "--manta", "--module"]
    programs = [x for pair in zip(names, sys.argv[1:]) for x in pair]
    check_errors(programs)
    check_run(programs)
    if subprocess.run(["sh", "-c", "command -v openssl"],
                      capture_output=True).returncode == 0:
        check_tls(programs)
    else:
        print("smoke_test: no openssl: the TLS run is skipped")
    print("smoke_test: ok")


if __name__ == "__main__":
    main()
