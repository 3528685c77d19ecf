"""Smoke test of the raw gRPC floor benchmark (CTest: bench_raw_grpc_smoke).

    smoke_test.py PATH/TO/raw_grpc_bench

Proves the programs work, not how fast: a short run emits valid JSON with
every case and sane figures; the server stops cleanly when its stdin closes
and on SIGTERM, and answers another gRPC implementation (python3-grpcio,
when installed) with echoes, chunks and clear errors; bad arguments and a
missing server fail with a message.
"""
import json
import os
import signal
import subprocess
import sys

TIMEOUT = 100


def fail(msg):
    print("smoke_test: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check_run(bench):
    totals = ["4MiB", "1536KiB"]  # 1.5 chunks: exercises a short last chunk
    cmd = [bench, "--json", "--seconds", "0.2", "--pull-totals", ",".join(totals)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        fail("%s exited with %d" % (" ".join(cmd), run.returncode))
    try:
        doc = json.loads(run.stdout)
    except ValueError as e:
        fail("the output is not JSON (%s):\n%s" % (e, run.stdout))
    expected = ["unary_rtt_64B", "unary_pipelined_64", "stream_msgs_64B",
                "stream_rtt_64B"]
    for t in totals:
        expected += ["pull_1MiB_chunks_" + t, "pull_1MiB_chunks_" + t + "_copy"]
    names = [r["name"] for r in doc["results"]]
    if names != expected:
        fail("cases %s, expected %s" % (names, expected))
    for r in doc["results"]:
        if not (r["per_second"] > 0 and r["ops"] > 0 and r["seconds"] > 0):
            fail("%s has no figure: %s" % (r["name"], r))
        if "rtt" in r["name"] and not 0 < r["p50_us"] <= r["p99_us"]:
            fail("%s: p50 and p99 are not ordered: %s" % (r["name"], r))
        if r["name"].startswith("pull_"):
            if r["unit"] != "GB" or r["chunk_bytes"] != 1 << 20:
                fail("%s: wrong unit or chunk: %s" % (r["name"], r))
            if r["copy"] != r["name"].endswith("_copy"):
                fail("%s: copy flag is %s" % (r["name"], r["copy"]))
    for side in ("client", "server"):
        spent = [r[side + "_cpu_seconds"] for r in doc["results"]]
        if min(spent) < 0 or sum(spent) <= 0:
            fail("%s CPU seconds are %s" % (side, spent))
    for key in ("grpc_core_version", "machine", "server_pollers", "seconds"):
        if key not in doc:
            fail("the JSON lacks %r" % key)
    if doc["server_pollers"] < 1:
        fail("server_pollers is %r" % doc["server_pollers"])


def start_server(server):
    proc = subprocess.Popen([server, "--pollers", "2"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline().split()
    second = proc.stdout.readline().split()
    if len(first) != 2 or first[0] != "port" or not 0 < int(first[1]) < 65536:
        proc.kill()
        fail("the server's first line is %r" % first)
    if second != ["pollers", "2"]:
        proc.kill()
        fail("the server's second line is %r" % second)
    proc.port = int(first[1])
    return proc


def wait_exit(proc, timeout, after):
    """The server's exit status, which must be 0, within timeout seconds."""
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail("the server kept running %d s after %s" % (timeout, after))
    if code != 0:
        fail("after %s, the server exited with %d" % (after, code))


def check_server_stops(server):
    proc = start_server(server)
    proc.stdin.close()
    wait_exit(proc, 20, "its stdin closed")
    proc = start_server(server)
    proc.send_signal(signal.SIGTERM)
    wait_exit(proc, 20, "SIGTERM")
    proc.stdin.close()


def check_foreign_client(server):
    """A gRPC client of another implementation (python3-grpcio) gets the
    echo, a clear INVALID_ARGUMENT for a bad Pull and UNIMPLEMENTED for an
    unknown method. Skipped, saying so, where grpcio is not installed."""
    try:
        import grpc
    except ImportError:
        print("smoke_test: python3-grpcio not installed; foreign client "
              "checks skipped")
        return
    proc = start_server(server)
    try:
        channel = grpc.insecure_channel("127.0.0.1:%d" % proc.port)
        ident = lambda b: b
        unary = channel.unary_unary("/manta.bench.Raw/Unary", ident, ident)
        if unary(b"hello", timeout=10) != b"hello":
            fail("Unary did not echo")
        pull = channel.unary_stream("/manta.bench.Raw/Pull", ident, ident)
        total, chunk = 2500, 1000
        req = total.to_bytes(8, "little") + chunk.to_bytes(8, "little")
        sizes = [len(c) for c in pull(req, timeout=10)]
        if sizes != [1000, 1000, 500]:
            fail("Pull of 2500 bytes in 1000s sent chunks of %s" % sizes)
        for bad in (b"short", (1).to_bytes(8, "little") + bytes(8)):
            try:
                list(pull(bad, timeout=10))
                fail("Pull accepted the bad request %r" % bad)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    fail("a bad Pull gave %s" % e.code())
        other = channel.unary_unary("/manta.bench.Raw/Nope", ident, ident)
        try:
            other(b"x", timeout=10)
            fail("an unknown method succeeded")
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNIMPLEMENTED:
                fail("an unknown method gave %s" % e.code())
        channel.close()
    finally:
        proc.stdin.close()
        wait_exit(proc, 20, "a foreign client and its stdin closing")


def check_errors(bench):
    cases = [
        (["--server", "/nonexistent/raw_grpc_server"], "cannot run the server"),
        (["--seconds", "0"], "--seconds"),
        (["--pull-totals", "0MiB"], "--pull-totals"),
        (["--pull-totals", "12XB"], "--pull-totals"),
        (["--bogus"], "unknown"),
        (["--filter", "no_such_case", "--seconds", "0.1"], "no case matches"),
    ]
    for args, text in cases:
        run = subprocess.run([bench] + args, capture_output=True, text=True,
                             timeout=TIMEOUT)
        if run.returncode == 0 or text not in run.stderr:
            fail("%s: exit %d, stderr %r (wanted a failure saying %r)"
                 % (args, run.returncode, run.stderr, text))


def main():
    if len(sys.argv) != 2:
        fail("usage: smoke_test.py PATH/TO/raw_grpc_bench")
    bench = sys.argv[1]
    server = os.path.join(os.path.dirname(bench), "raw_grpc_server")
    check_run(bench)
    check_server_stops(server)
    check_foreign_client(server)
    check_errors(bench)
    print("smoke_test: ok")


if __name__ == "__main__":
    main()
