#!/usr/bin/env bash
# A network partition made with a network namespace this test creates: node
# p runs in its own namespace, linked to the head, node a and the driver
# (the root namespace) by a veth pair only. Mid-job the link is cut (the
# root side set down: packets vanish, no connection is reset), then healed.
# What must hold: the head declares p dead after the dead-after time of
# silence (and not much later), the driver's tasks that were on p run again
# on a with the right results, and once the link is back p registers again
# and runs tasks (cluster_partition.c, the driver's side).
#
# Needs root and `ip netns`; skipped (exit 77, CTest's skip) with the reason
# otherwise. Every namespace, link and process made here is removed by the
# EXIT trap, pass or fail.
#
#   run-partition-test.sh <manta> <cluster_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "not root: making network namespaces needs root"
command -v ip >/dev/null || skip "no ip command (iproute2)"

work=$(mktemp -d)
ns=mtpart$$
veth_root=mtph$$
veth_ns=mtpn$$
# A /24 of 10.213.0.0/16 picked by pid, so parallel runs do not collide.
net=10.213.$(($$ % 250 + 1))
root_ip=$net.1
ns_ip=$net.2
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_INSECURE
source "$(dirname "$0")/../cluster/nodes.sh"

cleanup() {
  kill_nodes
  ip link del "$veth_root" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! err=$(ip netns add "$ns" 2>&1); then
  skip "ip netns add failed: $err"
fi
ip link add "$veth_root" type veth peer name "$veth_ns" ||
  skip "cannot make a veth pair"
ip link set "$veth_ns" netns "$ns"
ip addr add "$root_ip/24" dev "$veth_root"
ip link set "$veth_root" up
ip netns exec "$ns" ip addr add "$ns_ip/24" dev "$veth_ns"
ip netns exec "$ns" ip link set "$veth_ns" up
ip netns exec "$ns" ip link set lo up
# The link carries packets both ways before anything starts (at most
# 10 s): a connection from the namespace to a closed port of the root side
# is refused (a reset came back) rather than left unanswered.
link_works() {
  local out
  out=$(ip netns exec "$ns" timeout 2 bash -c "exec 3<>/dev/tcp/$root_ip/9" \
    2>&1 || true)
  grep -q "refused" <<<"$out"
}
for _ in $(seq 50); do
  link_works && break
  sleep 0.2
done
link_works || fail "the veth link does not carry packets"

# Beyond loopback: a token given on purpose; clear text on this private
# link (--insecure), as TLS is not what this test is about.
mkdir -m 700 "$work/secrets"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/token"
chmod 600 "$work/secrets/token"
common=(--token-file "$work/secrets/token" --insecure --num-cpus 2)
dead_after_ms=3000
export MANTA_DEAD_AFTER_MS=$dead_after_ms

# state_of PID: p's state ("alive", "dead", or "" if not listed).
state_of() {
  "$manta" status --address "$head" --token-file "$work/secrets/token" \
    2>/dev/null | sed -n "s/^node .*  \([a-z]*\)  pid $1 on .*/\1/p" | head -1
}

# wait_state PID STATE SECONDS: polls every 0.1 s; the seconds it took.
wait_state() {
  local start=$SECONDS i
  for i in $(seq $(($3 * 10))); do
    [ "$(state_of "$1")" = "$2" ] && { waited=$((SECONDS - start)); return 0; }
    sleep 0.1
  done
  "$manta" status --address "$head" --token-file "$work/secrets/token" || true
  fail "node pid $1 not $2 after $3 s"
}

echo "== a head and node a (root namespace), node p (namespace $ns)"
start_node head --head --bind "$root_ip" --port 0 "${common[@]}"
head=$address
start_node node_a --address "$head" --bind "$root_ip" --port 0 \
  "${common[@]}" --module "$module"
start_process node_p ip netns exec "$ns" "$manta" start --foreground \
  --address "$head" --bind "$ns_ip" --port 0 "${common[@]}" --module "$module"
p_pid=$pid
wait_state "$p_pid" alive 20

echo "== driver: a job on a and p; p cut off mid-job"
mkdir "$work/sync"
MANTA_ADDRESS=$head MANTA_TOKEN_FILE=$work/secrets/token \
  MANTA_TEST_SYNC_DIR=$work/sync MANTA_TEST_CUT_PID=$p_pid \
  "$driver" partition >"$work/driver.out" 2>"$work/driver.err" &
driver_pid=$!
node_pids+=("$driver_pid")
driver_reached submitted
ip link set "$veth_root" down
echo "link cut"
wait_state "$p_pid" dead $((dead_after_ms / 1000 + 10))
echo "the head declared p dead ${waited} s after the cut (dead after ${dead_after_ms} ms)"
driver_reached round1
ip link set "$veth_root" up
echo "link healed"
wait_state "$p_pid" alive 60
echo "p alive again ${waited} s after the link came back"
touch "$work/sync/healed"
driver_finish partition
echo "PASS"
