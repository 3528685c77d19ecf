#!/usr/bin/env bash
# Makes TLS files for a manta cluster with the openssl command: a CA (once
# per folder) and a certificate signed by it (docs/security.md, "TLS").
#
#   scripts/tls-generate.sh DIR [--name NAME] [--host HOST]... [--days N]
#
# DIR/ca.pem, DIR/ca.key     the cluster's CA (made if DIR has none yet;
#                            keep ca.key off the nodes)
# DIR/NAME.pem, NAME.key     a certificate and its key (NAME default "node"),
#                            for servers and clients alike (mutual TLS)
#
# The certificate names "manta", the name every manta node checks whatever
# address it dials, plus localhost, 127.0.0.1 and ::1 (for foreign clients
# that check the address they dial) and each --host (a name or an IP
# address). Keys are EC P-256, mode 0600. Run again with another --name to
# sign more certificates with the same CA; a new DIR is a new CA.
set -euo pipefail

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
name=node
days=825
hosts=()
while [ $# -gt 0 ]; do
  case $1 in
    --name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    --host) [ $# -ge 2 ] || usage; hosts+=("$2"); shift 2 ;;
    --days) [ $# -ge 2 ] || usage; days=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "tls-generate: unknown option $1" >&2; usage ;;
  esac
done
command -v openssl >/dev/null || {
  echo "tls-generate: openssl not found (bash scripts/install-deps.sh)" >&2
  exit 1
}
case $name in
  ca|*/*|'') echo "tls-generate: --name may not be '$name'" >&2; exit 2 ;;
esac

mkdir -p "$dir"
umask 077 # keys are born private
curve=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)

if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 "${curve[@]}" -nodes -days "$days" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=manta cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 644 "$dir/ca.pem"
fi

san="DNS:manta,DNS:localhost,IP:127.0.0.1,IP:::1"
for h in "${hosts[@]}"; do
  if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then
    san+=",IP:$h"
  else
    san+=",DNS:$h"
  fi
done

ext=$(mktemp)
csr=$(mktemp)
trap 'rm -f "$ext" "$csr"' EXIT
printf '%s\n' "subjectAltName=$san" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth,clientAuth" >"$ext"
openssl req "${curve[@]}" -nodes -keyout "$dir/$name.key" -out "$csr" \
  -subj "/CN=manta $name" 2>/dev/null
openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
  -CAcreateserial -days "$days" -extfile "$ext" -out "$dir/$name.pem" \
  2>/dev/null
chmod 600 "$dir/$name.key"
chmod 644 "$dir/$name.pem"
echo "tls-generate: $dir/$name.pem and $dir/$name.key (names: $san), CA $dir/ca.pem"
