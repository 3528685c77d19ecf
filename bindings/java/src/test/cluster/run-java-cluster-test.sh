#!/usr/bin/env bash
# Java across cluster nodes: a head (C), a JVM node (manta.Node), a C node
# hosting a JVM (manta start --classpath), a C driver calling Java functions
# and Java actors on both by name and a Java driver calling C functions, all
# on loopback with ports picked by the kernel. Every process started here is
# killed on exit, pass or fail; every wait is bounded.
#
#   run-java-cluster-test.sh <manta> <cluster_module.so> <java_cluster_driver>
#                            <manta-tests.jar> <manta.jar> java|launcher
#                            <java or jvm_launcher> [<manta-examples.jar>]
#
# With manta-examples.jar the JVM node also offers the seed's Counter
# (examples.CounterModule), which the C driver calls across the cluster.
#
# "launcher" (AddressSanitizer builds) runs the JVMs in the instrumented
# jvm_launcher instead of `java`; processes hosting a JVM then get
# ASAN_OPTIONS=$MANTA_TEST_JVM_ASAN_OPTIONS (docs/testing.md).
set -euo pipefail

manta=$1
module=$2
c_driver=$3
tests_jar=$4
manta_jar=$5
mode=$6
java=$7
examples_jar=${8:-}
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_JAVA_CLASSPATH MANTA_JAVA_MODULES \
  MANTA_JAVA_OPTIONS MANTA_JNI_LIBRARY MANTA_JAR
jvm_env=(env)
if [ -n "${MANTA_TEST_JVM_ASAN_OPTIONS:-}" ]; then
  jvm_env=(env "ASAN_OPTIONS=$MANTA_TEST_JVM_ASAN_OPTIONS")
fi

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
    [ -s "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }
  done
  exit 1
}

# java_cmd <main class> <args...>: sets $cmd to the command line of a JVM
# running the test classes.
java_cmd() {
  local cp=$tests_jar:$manta_jar${examples_jar:+:$examples_jar}
  if [ "$mode" = launcher ]; then
    cmd=("${jvm_env[@]}" "$java" -Xcheck:jni -Xmx256m -Djava.class.path="$cp"
      -- "$@")
  else
    cmd=("$java" -Xcheck:jni -Xmx256m -cp "$cp" "$@")
  fi
}

# wait_status <pattern>...: until the head's status matches every pattern.
wait_status() {
  local st ok
  for _ in $(seq 300); do
    st=$("$manta" status --address "$head" 2>/dev/null || true)
    ok=1
    for p in "$@"; do
      grep -Eq "$p" <<<"$st" || ok=0
    done
    [ $ok = 1 ] && return 0
    sleep 0.05
  done
  echo "$st" >&2
  fail "the head's status never matched: $*"
}

# No JVM may report a misused JNI call or crash, none under the sanitizers.
check_logs() {
  if grep -lE "WARNING in native method|FATAL ERROR in native method|hs_err|ERROR: AddressSanitizer|runtime error:" \
    "$work"/*.out "$work"/*.err 2>/dev/null; then
    fail "a process reported a JNI, JVM or sanitizer error"
  fi
}

echo "== manta start --help documents the Java options"
# Read whole first: grep -q stops reading at its match, and the writer's
# SIGPIPE would fail the pipeline (pipefail).
help=$("$manta" start --help)
grep -q -- "--classpath CP" <<<"$help" || fail "start --help"
grep -q -- "--java-module CLASS" <<<"$help" || fail "start --help"

echo "== a head, a JVM node, a C node hosting a JVM"
start_process head "$manta" start --foreground --head --port 0 --num-cpus 1
head=$address
jvm_modules=(--module manta.ClusterJvmModule)
driver_options=()
if [ -n "$examples_jar" ]; then
  jvm_modules+=(--module examples.CounterModule)
  driver_options=(seed-counter)
fi
java_cmd manta.Node --address "$head" --num-cpus 2 --resources jvm_slot=1 \
  "${jvm_modules[@]}"
start_process jvm_node "${cmd[@]}"
jvm_address=$address
jvm_pid=$pid
grep -q "$((${#jvm_modules[@]} / 2)) Java module(s)" "$work/jvm_node.out" ||
  fail "JVM node modules"
start_process c_node "${jvm_env[@]}" "$manta" start --foreground \
  --address "$head" \
  --num-cpus 2 --module "$module" --classpath "$tests_jar" \
  --java-module manta.ClusterHostedModule --java-option -Xcheck:jni \
  --java-option -Xmx256m
c_address=$address
c_pid=$pid
wait_status "3 node\(s\), 3 alive" \
  "functions  java.fail, java.jvm_pid, java.upper" \
  "jvm_slot 1/1 free" \
  "functions  add, .*fail, java.hosted_pid, java.reverse, .*make_bytes" \
  "classes  .*java.HostedCounter" "classes  .*java.JvmCounter"
"$manta" status --address "$head"

echo "== C driver: Java functions and Java actors on both nodes"
MANTA_ADDRESS=$head "$c_driver" "$jvm_pid" "$jvm_address" "$c_pid" \
  "$c_address" "${driver_options[@]}" >"$work/c_driver.out" \
  2>"$work/c_driver.err" || fail "C driver"
grep "^kill on" "$work/c_driver.out"
if [ -n "$examples_jar" ]; then
  grep -qx "\[0, 1, 3, 6, 10\]" "$work/c_driver.out" ||
    fail "the seed's counter on the JVM node did not print [0, 1, 3, 6, 10]"
  echo "the seed's Java counter, called from C on the JVM node: [0, 1, 3, 6, 10]"
fi
tail -1 "$work/c_driver.out"

echo "== Java driver: C functions on the C node, errors as MantaException"
java_cmd manta.ClusterJavaDriver "$head" "$c_pid" "$c_address" "$jvm_address"
"${cmd[@]}" >"$work/java_driver.out" 2>"$work/java_driver.err" ||
  fail "Java driver"
cat "$work/java_driver.out"
grep -q "checks passed" "$work/java_driver.out" || fail "Java driver output"

echo "== manta start --classpath: what cannot start says why"
# expect_refusal <pattern> <VAR=value or -> <args...>: a node that must not
# start, and says why.
expect_refusal() {
  local pattern=$1 var=$2
  shift 2
  [ "$var" = - ] && var=MANTA_TEST_UNUSED=1
  if "${jvm_env[@]}" "$var" "$manta" start --foreground --address "$head" \
    "$@" >"$work/refused.out" 2>"$work/refused.log"; then
    fail "manta start $* started"
  fi
  grep -q -- "$pattern" "$work/refused.log" ||
    fail "manta start $*: expected '$pattern' in: $(cat "$work/refused.log")"
}
expect_refusal "--classpath: $work/none.jar does not exist" - \
  --classpath "$work/none.jar"
expect_refusal "Java module manta.NoSuchModule not found on the class path" - \
  --classpath "$tests_jar" --java-module manta.NoSuchModule
expect_refusal "cannot start a JVM" - \
  --classpath "$tests_jar" --java-option -Xno-such-option
expect_refusal "a JVM option cannot contain spaces" - \
  --classpath "$tests_jar" --java-option "-Xmx1g -Xms1g"
expect_refusal "MANTA_JNI_LIBRARY=$work/none.so: no such file" \
  MANTA_JNI_LIBRARY="$work/none.so" --classpath "$tests_jar"
expect_refusal "MANTA_JAR=$work/none.jar: no such file" \
  MANTA_JAR="$work/none.jar" --classpath "$tests_jar"
rm -f "$work/refused.out" "$work/refused.log"

echo "== SIGTERM stops each JVM in order: it leaves the cluster at once"
stop_process "the JVM node" "$jvm_pid"
wait_status "2 node\(s\), 2 alive"
stop_process "the C node" "$c_pid"
wait_status "1 node\(s\), 1 alive"
if grep -q "dead" <<<"$("$manta" status --address "$head")"; then
  fail "a node stopped by SIGTERM was declared dead, not unregistered"
fi

check_logs
echo "PASS"
