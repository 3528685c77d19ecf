#!/usr/bin/env bash
# TLS and mutual TLS on every link (docs/security.md, "TLS"). Certificates
# are made at test time with scripts/tls-generate.sh (openssl) in a private
# folder: CA A (the cluster's) and CA B (another). A head and two nodes on
# CA A run a driver's remote tasks and object fetches over mutual TLS; then
# every wrong way in is refused: cleartext clients (manta status, a node,
# Python grpcio), clients without a certificate, with one of CA B, or that
# check the head against CA B; a key file others may read; binds beyond
# loopback without TLS unless --insecure. Every process started here is
# killed on exit, pass or fail.
#
#   run-tls-test.sh <manta> <cluster_driver> <cluster_module.so>
set -euo pipefail

manta=$1
driver=$2
module=$3
here=$(cd "$(dirname "$0")" && pwd)
gen=$here/../../scripts/tls-generate.sh
protos=$here/../../proto
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_INSECURE
unset MANTA_TLS_CERT MANTA_TLS_KEY MANTA_TLS_CA
source "$here/nodes.sh"

cleanup() {
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v openssl >/dev/null ||
  fail "openssl missing (bash scripts/install-deps.sh)"

# refused NAME PATTERN COMMAND...: COMMAND must fail (within 30 s) and say
# PATTERN on stderr or stdout.
refused() {
  local name=$1 pattern=$2
  shift 2
  if timeout 30 "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    fail "$name: accepted"
  fi
  grep -Eq "$pattern" "$work/$name.out" "$work/$name.err" ||
    fail "$name: no '$pattern' in: $(cat "$work/$name.out" "$work/$name.err")"
  echo "  $name: refused: $(grep -Eho "$pattern" "$work/$name.out" \
    "$work/$name.err" | head -1)"
}

echo "== certificates (openssl)"
a=$work/a
b=$work/b
"$gen" "$a" >/dev/null
"$gen" "$a" --name client >/dev/null
"$gen" "$b" >/dev/null
"$gen" "$b" --name client >/dev/null
tls_a=(--tls-cert "$a/node.pem" --tls-key "$a/node.key" --tls-ca "$a/ca.pem")
client_a=(--tls-cert "$a/client.pem" --tls-key "$a/client.key" --tls-ca "$a/ca.pem")

echo "== a key file others may read is refused"
cp "$a/node.key" "$work/open.key"
chmod 644 "$work/open.key"
refused open_key "mode 0644: other users may read" "$manta" start \
  --foreground --head --port 0 --tls-cert "$a/node.pem" \
  --tls-key "$work/open.key" --tls-ca "$a/ca.pem"
refused half_pair "certificate and its private key together" "$manta" start \
  --foreground --head --port 0 --tls-cert "$a/node.pem"

echo "== a head and two nodes over mutual TLS (flags and MANTA_TLS_*)"
start_node head --head --port 0 --num-cpus 1 "${tls_a[@]}"
head=$address
export MANTA_TLS_CERT=$a/node.pem MANTA_TLS_KEY=$a/node.key MANTA_TLS_CA=$a/ca.pem
MANTA_TEST_PIN=a start_node node_a --address "$head" --num-cpus 2 \
  --module "$module"
MANTA_TEST_PIN=b start_node node_b --address "$head" --num-cpus 2 \
  --module "$module"
unset MANTA_TLS_CERT MANTA_TLS_KEY MANTA_TLS_CA
ok=
for _ in $(seq 200); do
  if "$manta" status --address "$head" "${client_a[@]}" 2>/dev/null |
    grep -q "3 node(s), 3 alive"; then
    ok=1
    break
  fi
  sleep 0.05
done
[ -n "$ok" ] || fail "the TLS head does not list 3 live nodes"

echo "== a driver over mutual TLS: remote tasks, objects across nodes"
export MANTA_TLS_CERT=$a/client.pem MANTA_TLS_KEY=$a/client.key MANTA_TLS_CA=$a/ca.pem
MANTA_ADDRESS=$head "$driver" basic >"$work/basic.out" || fail "driver basic over TLS"
MANTA_ADDRESS=$head "$driver" objects >"$work/objects.out" ||
  fail "driver objects over TLS"
unset MANTA_TLS_CERT MANTA_TLS_KEY MANTA_TLS_CA
# The nodes' own servers speak TLS too (peer links, object fetches): a
# cleartext status against a node is refused like one against the head.
node_a_addr=$(sed -n 's/.* ready at \([^ ]*\) .*/\1/p' "$work/node_a.out")

echo "== every other way in is refused"
refused status_cleartext "most likely requires TLS" "$manta" status \
  --address "$head"
refused status_cleartext_node "most likely requires TLS" "$manta" status \
  --address "$node_a_addr"
refused status_nocert "TLS handshake failed" "$manta" status --address \
  "$head" --tls-ca "$a/ca.pem"
refused status_othercert "TLS handshake failed" "$manta" status --address \
  "$head" --tls-cert "$b/client.pem" --tls-key "$b/client.key" \
  --tls-ca "$a/ca.pem"
refused status_wrongca "TLS handshake failed" "$manta" status --address \
  "$head" --tls-cert "$a/client.pem" --tls-key "$a/client.key" \
  --tls-ca "$b/ca.pem"
refused node_cleartext "cannot register .*most likely requires TLS" \
  "$manta" start --foreground --address "$head" --num-cpus 1
refused node_othercert "cannot register .*TLS handshake failed" \
  "$manta" start --foreground --address "$head" --num-cpus 1 \
  --tls-cert "$b/node.pem" --tls-key "$b/node.key" --tls-ca "$a/ca.pem"
if /usr/bin/python3 -c "import grpc, google.protobuf" 2>/dev/null &&
  command -v protoc >/dev/null; then
  mkdir -p "$work/py"
  for mode in ok cleartext nocert othercert wrongca; do
    MANTA_TOKEN=$(cat "$MANTA_STATE_DIR/token") /usr/bin/python3 \
      "$here/tls_client.py" "$head" "$work/py" "$protos" "$mode" "$a" "$b" \
      >"$work/py_$mode.out" 2>&1 ||
      fail "python $mode: $(cat "$work/py_$mode.out")"
    echo "  python $(tail -1 "$work/py_$mode.out")"
  done
else
  fail "python3-grpcio, python3-protobuf or protoc missing (scripts/install-deps.sh)"
fi
"$manta" status --address "$head" "${client_a[@]}" |
  grep -q "3 node(s), 3 alive" || fail "the cluster changed after the refusals"
# gRPC logs every failed handshake, without the peer: the head's log has
# them counted (one line, then one per 10 s), not one line each.
refusals=$(grep -c "TLS handshake" "$work/head.err" || true)
[ "$refusals" -ge 1 ] && [ "$refusals" -le 3 ] ||
  fail "the head logged $refusals lines for about 10 failed handshakes"
# The counted lines: the first refusal, and the summary of those after it
# (which appears when the refusals span more than 10 s, as on a busy machine).
! grep -v -e "refused a TLS handshake" -e "refused [0-9]* more call(s)" \
  "$work/head.err" | grep -q "Handshake failed" ||
  fail "a handshake failure logged uncounted"

echo "== TLS without client certificates (no CA given to the server)"
start_node head_tls --head --port 0 --num-cpus 1 --tls-cert "$a/node.pem" \
  --tls-key "$a/node.key"
"$manta" status --address "$address" --tls-ca "$a/ca.pem" |
  grep -q "1 node(s), 1 alive" || fail "a CA alone is refused by a TLS head"
refused tls_cleartext "most likely requires TLS" "$manta" status \
  --address "$address"
refused tls_wrongca "TLS handshake failed" "$manta" status \
  --address "$address" --tls-ca "$b/ca.pem"
stop_process head_tls "$pid"

echo "== the bind rule: beyond loopback, a token given on purpose and TLS"
mkdir -m 700 "$work/secrets"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secrets/token"
chmod 600 "$work/secrets/token"
wide=(--head --port 0 --bind 0.0.0.0 --num-cpus 1)
refused bind_cleartext "needs TLS.*--insecure \(MANTA_INSECURE=1\)" \
  "$manta" start --foreground "${wide[@]}" --token-file "$work/secrets/token"
refused bind_no_token "needs a cluster token given on purpose" \
  "$manta" start --foreground "${wide[@]}" "${tls_a[@]}"
start_node bind_tls "${wide[@]}" --token-file "$work/secrets/token" "${tls_a[@]}"
! grep -q "without TLS" "$work/bind_tls.err" || fail "bind_tls warned"
stop_process bind_tls "$pid"
start_node bind_insecure "${wide[@]}" --token-file "$work/secrets/token" \
  --insecure
grep -q "without TLS, as --insecure" "$work/bind_insecure.err" ||
  fail "--insecure was not warned about: $(cat "$work/bind_insecure.err")"
stop_process bind_insecure "$pid"
MANTA_INSECURE=1 start_node bind_insecure_env "${wide[@]}" \
  --token-file "$work/secrets/token"
grep -q "without TLS, as --insecure" "$work/bind_insecure_env.err" ||
  fail "MANTA_INSECURE=1 was not warned about"
stop_process bind_insecure_env "$pid"

echo "PASS"
