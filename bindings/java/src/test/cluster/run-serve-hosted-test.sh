#!/usr/bin/env bash
# Serve with a Java replica on a C node hosting a JVM (docs/serve.md,
# "From Java"): `manta start --head --http-port 0 --java-module
# manta.ServeHostedModule` runs the ingress in C and the Java class in the
# JVM it hosts; `manta serve deploy` puts a route on the class (with
# constructor arguments and a health check); curl gets the Java replica's
# answer; a replica made sick is replaced by the probe.
#
#   run-serve-hosted-test.sh <manta> <manta-tests.jar>
set -euo pipefail
manta=$1
tests_jar=$2
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_SERVE_ADDRESS
jvm_env=(env)
if [ -n "${MANTA_TEST_JVM_ASAN_OPTIONS:-}" ]; then
  jvm_env=(env "ASAN_OPTIONS=$MANTA_TEST_JVM_ASAN_OPTIONS")
fi
node_wait_s=30 # a JVM takes longer than a C node to serve
source "${MANTA_NODES_SH:?the path of tests/cluster/nodes.sh (CTest sets it)}"
cleanup() {
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_process head "${jvm_env[@]}" "$manta" start --foreground --head \
  --port 0 --http-port 0 --num-cpus 2 --classpath "$tests_jar" \
  --java-module manta.ServeHostedModule --java-option -Xcheck:jni \
  --java-option -Xmx256m
http=$(sed -n 's|.* serve http://\([^ ]*\).*|\1|p' "$work/head.out")
[ -n "$http" ] || fail "the head printed no serve address: $(cat "$work/head.out")"

cat >"$work/hosted.yaml" <<'YAML'
route: /hosted
class: java.ServeGreeter
args: [hosted, 5]
health_check_method: health
health_check_period_ms: 100
YAML
"$manta" serve deploy "$work/hosted.yaml" --http "$http" >"$work/deploy.out" ||
  fail "deploy: $(cat "$work/deploy.out")"
first=$(curl -sS --max-time 20 "http://$http/hosted/greet")
case $first in
"hosted 5 #"*) ;;
*) fail "the Java replica answered '$first'" ;;
esac
echo "the hosted JVM's replica answered: $first"
curl -sS --max-time 20 -X POST "http://$http/hosted/sicken" >/dev/null
now=$first
for _ in $(seq 200); do
  now=$(curl -sS --max-time 20 "http://$http/hosted/greet" || true)
  [ "$now" != "$first" ] && [ -n "$now" ] && break
  sleep 0.05
done
case $now in
"hosted 5 #"*) [ "$now" != "$first" ] || fail "the sick Java replica was not replaced" ;;
*) fail "after the sickness: '$now'" ;;
esac
echo "a sick Java replica was replaced: $now"
echo "serve hosted: ok"
