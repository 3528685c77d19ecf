#!/usr/bin/env bash
# The timeline (docs/observability.md):
#   run-timeline-test.sh MANTA_CLI TIMELINE_DRIVER CLUSTER_MODULE
# A head with 2 CPU slots and MANTA_TIMELINE=on, and a second node with the
# timeline off (it offers nothing, so nothing runs there). A driver runs
# meet(dir, 2) twice at once (each returns only when both run), 6 add
# tasks and 3 Counter.add calls; `manta timeline -o trace.json` writes the
# trace, which python3's json parses: Chrome trace events (a process per
# node, named; "X" events with ts/dur/pid/tid, each a run of calls of one
# function), every call of the job counted with its name and kind, each
# event with its node, worker and ref id, the two meet calls
# overlapping in time on two workers of the head; none from the node with
# the timeline off. Bad uses (an unknown option, no head, a bad
# MANTA_TIMELINE) fail with a message. Every process is killed on exit.
set -euo pipefail
manta=$1 driver=$2 module=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
fail() {
  fail_showing_errors "timeline test: $*"
}
# shellcheck source=../cluster/nodes.sh
. "$here/../cluster/nodes.sh"
trap 'kill_nodes; rm -rf "$work"' EXIT
export MANTA_STATE_DIR=$work/state
unset MANTA_TOKEN MANTA_TOKEN_FILE MANTA_ADDRESS MANTA_METRICS_PORT MANTA_TIMELINE

MANTA_TIMELINE=on start_node head --head --port 0 --num-cpus 2 --module "$module"
head_address=$address
start_node quiet --address "$head_address" --port 0 --num-cpus 2
quiet_address=$address
mkdir "$work/meet"
MANTA_ADDRESS=$head_address "$driver" "$work/meet" 6 >"$work/driver.out" \
  2>"$work/driver.err" || fail "the driver failed"
(cd "$work" && "$manta" timeline --address "$head_address" -o trace.json \
  >"$work/timeline.out" 2>"$work/timeline.err") ||
  fail "manta timeline failed: $(cat "$work/timeline.err")"
grep -q "events written to trace.json" "$work/timeline.out" ||
  fail "manta timeline said: $(cat "$work/timeline.out")"
python3 - "$work/trace.json" "$head_address" "$quiet_address" <<'PY' ||
import json, sys
trace = json.load(open(sys.argv[1]))
head, quiet = sys.argv[2], sys.argv[3]
ev = trace["traceEvents"]
procs = {e["pid"]: e["args"]["name"] for e in ev
         if e["ph"] == "M" and e["name"] == "process_name"}
head_pid = [p for p, n in procs.items() if head in n and "(head)" in n]
quiet_pid = [p for p, n in procs.items() if quiet in n]
assert len(procs) == 2 and head_pid and quiet_pid, procs
calls = [e for e in ev if e["ph"] == "X"]
for e in calls:
    for k in ("name", "cat", "ts", "dur", "pid", "tid"):
        assert k in e, ("missing", k, e)
    assert e["dur"] >= 0 and e["ts"] >= 0, e
    assert len(e["args"]["id"]) == 16 and e["args"]["worker"] == e["tid"], e
assert not [e for e in calls if e["pid"] == quiet_pid[0]], "events from the node with the timeline off"
names = {}
for e in calls:
    names.setdefault((e["name"], e["cat"]), []).append(e)
def ncalls(key):
    return sum(e["args"]["calls"] for e in names.get(key, []))
assert ncalls(("meet", "task")) == 2, names.keys()
assert len(names[("meet", "task")]) == 2, "the meets ran in one run"
assert ncalls(("add", "task")) == 6, names.keys()
assert ncalls(("Counter.add", "actor_call")) == 3, names.keys()
a, b = names[("meet", "task")]
assert a["pid"] == b["pid"] == head_pid[0], (a, b)
assert a["tid"] != b["tid"], ("one worker ran both meets", a, b)
assert a["ts"] < b["ts"] + b["dur"] and b["ts"] < a["ts"] + a["dur"], ("no overlap", a, b)
assert len({e["args"]["id"] for e in calls}) == len(calls), "ids repeat"
assert not trace["otherData"]["unanswered"], trace["otherData"]
threads = {(e["pid"], e["tid"]) for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
assert all((e["pid"], e["tid"]) in threads for e in calls), "a worker without a name"
print("timeline test: %d events; the two meet calls overlap on workers %d and %d" %
      (len(calls), a["tid"], b["tid"]))
PY
  fail "the trace is not what ran: $(head -c 2000 "$work/trace.json")"

# Bad uses are explained.
if "$manta" timeline --bogus >/dev/null 2>"$work/bad.err"; then
  fail "an unknown option was accepted"
fi
grep -q "unknown option --bogus" "$work/bad.err" || fail "$(cat "$work/bad.err")"
if MANTA_STATE_DIR=$work/none "$manta" timeline -o "$work/x.json" >/dev/null \
  2>"$work/nohead.err"; then
  fail "a timeline without a head succeeded"
fi
grep -q "no head started on this machine" "$work/nohead.err" ||
  fail "$(cat "$work/nohead.err")"
if MANTA_TIMELINE=lots "$manta" start --foreground --head --port 0 \
  >/dev/null 2>"$work/badenv.err"; then
  fail "MANTA_TIMELINE=lots was accepted"
fi
grep -q "MANTA_TIMELINE='lots' is not" "$work/badenv.err" ||
  fail "a bad MANTA_TIMELINE was not explained: $(cat "$work/badenv.err")"
echo "timeline test: PASS"
