#!/usr/bin/env bash
# Serve in a TLS cluster (docs/serve.md, "In a TLS cluster"): a head with
# the cluster's certificates serves its routes over HTTPS with the node's
# certificate, and a node joined over mutual TLS runs the target. `manta
# serve deploy` and `status` talk HTTPS checked against the CA; curl with
# the CA gets the echo; a plain-HTTP request (curl, and `manta serve` told
# http://) gets no answer; curl without the CA refuses the certificate; a
# CA of another cluster is refused by `manta serve`. The head's /metrics
# on the same node speaks HTTPS too.
#
#   run-serve-tls-test.sh <manta> <libmanta_examples.so>
set -euo pipefail

manta=$1
examples=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
export MANTA_STATE_DIR=$work/state
unset MANTA_ADDRESS MANTA_TOKEN MANTA_TOKEN_FILE MANTA_SERVE_ADDRESS
unset MANTA_TLS_CERT MANTA_TLS_KEY MANTA_TLS_CA
source "$here/../cluster/nodes.sh"
cleanup() {
  kill_nodes
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$here/../../scripts/tls-generate.sh" "$work/a" >"$work/gen.out" 2>&1 ||
  fail "tls-generate.sh: $(cat "$work/gen.out")"
bash "$here/../../scripts/tls-generate.sh" "$work/b" >"$work/gen.out" 2>&1 ||
  fail "tls-generate.sh (second CA): $(cat "$work/gen.out")"
tls=(--tls-cert "$work/a/node.pem" --tls-key "$work/a/node.key" --tls-ca "$work/a/ca.pem")

start_node head --head --port 0 --http-port 0 --metrics-port 0 --num-cpus 1 "${tls[@]}"
head=$address
url=$(sed -n 's|.* serve \(https://[^ ]*\).*|\1|p' "$work/head.out")
[ -n "$url" ] || fail "the TLS head printed no https serve address: $(cat "$work/head.out")"
hostport=${url#https://}
metrics=$(sed -n 's|.* metrics \(https://[^ ]*\).*|\1|p' "$work/head.out")
[ -n "$metrics" ] || fail "the TLS head printed no https metrics address: $(cat "$work/head.out")"
start_node n1 --address "$head" --module "$examples" --num-cpus 2 "${tls[@]}"
for _ in $(seq 200); do
  "$manta" status --address "$head" "${tls[@]}" 2>/dev/null | grep -q "echo" && break
  sleep 0.05
done

printf 'route: /echo\nfunction: echo\n' >"$work/echo.yaml"
# https:// and the CA: the token from the state folder, over TLS.
"$manta" serve deploy "$work/echo.yaml" --http "$url" \
  --tls-ca "$work/a/ca.pem" >"$work/deploy.out" 2>&1 ||
  fail "deploy over HTTPS: $(cat "$work/deploy.out")"
grep -q '"deployed":\["/echo"\]' "$work/deploy.out" ||
  fail "deploy said: $(cat "$work/deploy.out")"
# A bare HOST:PORT with MANTA_TLS_CA speaks HTTPS too.
MANTA_TLS_CA=$work/a/ca.pem "$manta" serve status --http "$hostport" \
  >"$work/status.out" 2>&1 || fail "status over HTTPS: $(cat "$work/status.out")"
grep -q "^/echo -> function echo" "$work/status.out" ||
  fail "status said: $(cat "$work/status.out")"

# A real client with the CA: the echo, run on the node (the head offers no
# echo), once the head's view lists the node's function.
got=
for _ in $(seq 200); do
  got=$(curl -sS --max-time 10 --cacert "$work/a/ca.pem" "$url/echo?data=Hello" || true)
  [ "$got" = "Received data: Hello" ] && break
  sleep 0.05
done
[ "$got" = "Received data: Hello" ] || fail "curl over HTTPS got: $got"
echo "serve tls: $got (curl --cacert, HTTPS with the node's certificate)"
code=$(curl -sS --max-time 10 --cacert "$work/a/ca.pem" -o /dev/null \
  -w '%{http_code}' "$metrics" || true)
[ "$code" = 200 ] || fail "the head's /metrics over HTTPS answered $code"

# Clear text is refused: no HTTP answer at all.
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
  "http://$hostport/echo?data=Hello" || true)
[ "$code" = 000 ] || fail "a plain-HTTP request got an HTTP answer: $code"
if "$manta" serve status --http "http://$hostport" >"$work/plain.out" 2>&1; then
  fail "manta serve over clear text was answered"
fi
grep -q "no HTTP answer.*speaks HTTPS" "$work/plain.out" ||
  fail "clear text refusal not explained: $(cat "$work/plain.out")"
# Without the CA, curl cannot trust the certificate; with another
# cluster's CA, neither can manta serve.
if curl -sS --max-time 10 -o /dev/null "$url/echo?data=Hello" 2>"$work/noca.err"; then
  fail "curl trusted the node's certificate without the CA"
fi
if "$manta" serve status --http "$url" --tls-ca "$work/b/ca.pem" \
  >"$work/otherca.out" 2>&1; then
  fail "manta serve trusted a certificate of another CA"
fi
grep -q "TLS handshake with .* failed" "$work/otherca.out" ||
  fail "another CA's refusal not explained: $(cat "$work/otherca.out")"
if "$manta" serve status --http "$url" >"$work/nocafile.out" 2>&1; then
  fail "https:// without a CA was accepted"
fi
grep -q "needs the CA" "$work/nocafile.out" ||
  fail "https:// without a CA: $(cat "$work/nocafile.out")"
# The ingress kept serving through the refusals.
got=$(curl -sS --max-time 10 --cacert "$work/a/ca.pem" "$url/echo?data=again" || true)
[ "$got" = "Received data: again" ] || fail "after the refusals curl got: $got"
echo "serve tls: clear text, no CA and another CA refused; still serving"
echo "serve_tls: ok"
