#!/usr/bin/env bash
# The mixed pipeline across three processes on loopback (Pipeline.java):
# a Java driver sends names to a C function on a C node (manta start
# --module libname_key_module.so), whose results feed a Java actor on a JVM
# node (manta.Node --module examples.NameTallyModule); the driver prints the
# aggregate. A head starts the cluster. Every process started here is
# killed on exit; every wait is bounded.
#
#   run-pipeline.sh <manta> <libname_key_module.so> <manta.jar>
#                   <manta-examples.jar> <java>
set -euo pipefail

manta=$1
module=$2
manta_jar=$3
examples_jar=$4
java=$5
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_JAVA_MODULES

node_wait_s=30 # a JVM takes longer than a C node to serve
source "${MANTA_NODES_SH:?the path of tests/cluster/nodes.sh (CTest sets it)}"

cleanup() {
  kill_nodes
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.out "$work"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}

start_process head "$manta" start --foreground --head --port 0 --num-cpus 1
head=$address
start_process c_node "$manta" start --foreground --address "$head" --num-cpus 2 \
  --module "$module"
start_process jvm_node "$java" -cp "$manta_jar:$examples_jar" manta.Node \
  --address "$head" --num-cpus 1 --module examples.NameTallyModule
# Both nodes registered before the driver calls what they offer.
for _ in $(seq 300); do
  st=$("$manta" status --address "$head" 2>/dev/null || true)
  if grep -q "functions  name_key" <<<"$st" &&
    grep -q "classes    NameTally" <<<"$st"; then
    break
  fi
  sleep 0.05
done
grep -q "classes    NameTally" <<<"$st" || fail "the nodes did not register"

"$java" -cp "$manta_jar:$examples_jar" examples.Pipeline "$head" \
  2>"$work/driver.err" || fail "the driver failed"
