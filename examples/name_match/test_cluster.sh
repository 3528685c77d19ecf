#!/usr/bin/env bash
# name_match against a cluster: a head and one more node (`manta start
# --foreground`, each loading name_match_module.so) on loopback with ports
# the kernel picks; the driver joins with --address, then with
# MANTA_ADDRESS, and must write byte for byte what it writes embedded. With
# a Java command, the Java driver joins too. The nodes must have run some
# of the searches, and stop cleanly (status 0) at the end. Every node
# started here is killed on exit, pass or fail; every wait is bounded.
#
#   test_cluster.sh BIN_DIR WORK_DIR MANTA [JAVA_COMMAND...]
set -euo pipefail
bin=$1
work=$2
manta=$3
shift 3
java=("$@")
module=$bin/name_match_module.so
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN
source "${MANTA_NODES_SH:?the path of tests/cluster/nodes.sh (CTest sets it)}"
trap kill_nodes EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in head node; do
    [ -f "$f.err" ] && { echo "--- $f.err" >&2; tail -20 "$f.err" >&2; }
  done
  exit 1
}

# finished: the tasks the head and the node have run, from their heartbeats.
finished() {
  "$manta" status --address "$head" |
    sed -n 's/.* running, \([0-9]*\) finished;.*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }'
}

"$bin/gen_names" --seed 13 --refs 4000 --queries 150 ref.csv queries.csv
# The chunks are small (4000 names make 5 of them, about 70 KB each): every
# search sent to another node carries its chunk inside the task.
opts=(--quiet --chunk-size 800 --batch-size 10 -k 4)
timeout 120 "$bin/name_match" "${opts[@]}" ref.csv queries.csv -o embedded.csv

start_node head --head --port 0 --num-cpus 1 --module "$module"
head=$address
start_node node --address "$head" --num-cpus 1 --module "$module"
for _ in $(seq 200); do
  st=$("$manta" status --address "$head" 2>/dev/null || true)
  if grep -q ", 2 alive" <<<"$st" &&
    [ "$(grep -c "name_match.top_k" <<<"$st")" -eq 2 ]; then
    break
  fi
  sleep 0.05
done
grep -q ", 2 alive" <<<"$st" || fail "the head does not list 2 live nodes: $st"

# One CPU slot here: more of the searches go to the other two nodes.
timeout 120 "$bin/name_match" "${opts[@]}" --cpus 1 --address "$head" \
  ref.csv queries.csv -o address.csv || fail "name_match --address"
cmp embedded.csv address.csv || fail "--address: not what the embedded run wrote"
echo "ok: name_match --address $head"
MANTA_ADDRESS=$head timeout 120 "$bin/name_match" "${opts[@]}" --cpus 1 \
  ref.csv queries.csv -o env.csv || fail "name_match with MANTA_ADDRESS"
cmp embedded.csv env.csv || fail "MANTA_ADDRESS: not what the embedded run wrote"
echo "ok: MANTA_ADDRESS=$head name_match"
if [ "${#java[@]}" -gt 0 ]; then
  timeout 120 "${java[@]}" "${opts[@]}" --cpus 1 --address "$head" \
    ref.csv queries.csv -o java.csv || fail "the Java driver with --address"
  cmp embedded.csv java.csv || fail "Java --address: not what C wrote embedded"
  echo "ok: Java driver --address $head"
fi

# The heartbeats bring the counts to the head within a second.
for _ in $(seq 100); do
  [ "$(finished)" -gt 0 ] && break
  sleep 0.05
done
ran=$(finished)
[ "$ran" -gt 0 ] || fail "the head and the node ran none of the tasks"
echo "ok: the head and the node ran $ran task(s)"

# A clean stop: SIGTERM, then exit status 0 within 10 s (in sanitizer
# builds, no leak either).
for p in "${node_pids[@]}"; do
  kill -TERM "$p"
  for _ in $(seq 200); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$p" 2>/dev/null && fail "a node still runs 10 s after SIGTERM"
  rc=0
  wait "$p" || rc=$?
  [ "$rc" -eq 0 ] || fail "a node exited with status $rc after SIGTERM"
done
node_pids=()
echo "name_match cluster: all agree"
