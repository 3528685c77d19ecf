#!/usr/bin/env bash
# deploy/kubernetes and deploy/container checked offline (docs/deploy.md,
# "Kubernetes": what is and is not verified). No cluster and no image
# builder run here, so: yamllint over the manifests; kustomize's rendering
# (kubectl kustomize, when kubectl is installed: it needs no cluster);
# check_k8s.py's reading of the objects (selectors, ports, the token
# Secret, TLS, non-root, --num-cpus = the CPU request, probes); the
# Dockerfile's shape (two stages, Debian bases, a non-root USER).
#
#   run-k8s-check.sh <source-dir>
set -euo pipefail
src=$(cd "$1" && pwd)
k8s=$src/deploy/kubernetes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "k8s-check: FAIL: $*" >&2
  exit 1
}

command -v yamllint >/dev/null || fail "yamllint not found: run scripts/install-deps.sh"
yamllint --strict -c "$k8s/.yamllint" "$k8s" || fail "yamllint"
echo "k8s-check: yamllint: clean"

rendered=()
if command -v kubectl >/dev/null; then
  kubectl kustomize "$k8s" >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err" ||
    fail "kubectl kustomize: $(cat "$tmp/kustomize.err")"
  grep -q 'image: manta:0.1.0' "$tmp/rendered.yaml" || fail "kustomize did not set the image tag"
  rendered=("$tmp/rendered.yaml")
  echo "k8s-check: kubectl kustomize: $(grep -c '^kind:' "$tmp/rendered.yaml") objects"
else
  echo "k8s-check: kubectl not installed: kustomize rendering not checked"
fi
python3 "$src/tests/deploy/check_k8s.py" "$k8s" "${rendered[@]}"
python3 - "$k8s/secret-token.example.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
names = {d["metadata"]["name"]: d for d in docs}
assert set(names) == {"manta-token", "manta-tls"}, names
assert set(names["manta-tls"]["stringData"]) == {"tls.crt", "tls.key", "ca.crt"}
assert "token" in names["manta-token"]["stringData"]
print("k8s-check: secret example: manta-token and manta-tls")
PY

df=$src/deploy/container/Dockerfile
[ "$(grep -c '^FROM debian:bookworm' "$df")" -eq 2 ] ||
  fail "the Dockerfile must have two stages on Debian 12"
user=$(sed -n 's/^USER \([^ ]*\)$/\1/p' "$df" | tail -n 1)
case ${user%%:*} in
"" | 0 | root) fail "the image must end with a non-root USER (got '$user')" ;;
esac
grep -q '^COPY --from=build ' "$df" || fail "the final stage copies nothing from the build"
grep -q "runAsUser: ${user%%:*}" "$k8s/head.yaml" || fail "the pods' runAsUser is not the image's user"
echo "k8s-check: Dockerfile: two Debian stages, USER $user"
echo "k8s-check: OK"
