#!/usr/bin/env bash
# The layer rules of docs/architecture.md, read from the sources: every
# quoted #include of runtime/ and of the Java glue names a header of a layer
# the including file may use, and only transport/ includes gRPC, only the
# services (http/, serve/) libmicrohttpd. The build enforces the same rules through each layer's
# include folders; this check also covers headers that a wider include path
# would let through (the unit tests' static library sees every folder).
#
#   tests/layers/check-layer-includes.sh [<source root>]
#
# Prints each violation as file:line: what and why; exits 1 if there is one.
set -euo pipefail

root=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
cd "$root"

# The folders a file in each top folder of runtime/ may include from
# (itself first); cli/ uses manta.h and one pure tool of base/.
declare -A allowed=(
  [base]="base"
  [value]="value base"
  [core]="core value base"
  [transport]="transport core value base"
  [cluster]="cluster transport core value base"
  [http]="http cluster transport core value base"
  [serve]="serve http cluster transport core value base"
  [api]="api serve http cluster transport core value base"
  [cli]="cli base"
)

# Which top folder each runtime header lives in; a name used twice would
# make an include ambiguous, so it is a violation too.
declare -A home=()
fail=0
while IFS= read -r header; do
  name=${header##*/}
  top=${header#runtime/}
  top=${top%%/*}
  if [ -n "${home[$name]:-}" ]; then
    echo "$header: header name $name also in runtime/${home[$name]}/" \
      "(includes would be ambiguous)"
    fail=1
  fi
  home[$name]=$top
done < <(find runtime -name '*.h' | sort)

# violation <file> <line> <message>
violation() {
  echo "$1:$2: ${*:3}"
  fail=1
}

while IFS= read -r file; do
  top=${file#runtime/}
  top=${top%%/*}
  rules=${allowed[$top]:-}
  if [ -z "$rules" ]; then
    violation "$file" 1 "runtime/$top/ is not a layer of" \
      "tests/layers/check-layer-includes.sh (add its rules)"
    continue
  fi
  while IFS=: read -r line text; do
    if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
      inc=${BASH_REMATCH[1]}
      name=${inc##*/}
      if [ "$inc" = manta.h ]; then
        continue
      fi
      if [[ $inc == manta/v1/* ]]; then
        # Generated protobuf-c code: the wire of the cluster, read by the
        # layers above it too (http/'s dashboard API reads the head's
        # ClusterStatus and the nodes' Observe replies).
        case $top in cluster | http | api) continue ;; esac
        violation "$file" "$line" "includes $inc: the protobuf messages" \
          "belong to cluster/ (a $top file encodes values by value/)"
        continue
      fi
      where=${home[$name]:-}
      if [ -z "$where" ]; then
        continue # a header beside the file outside runtime/ (generated)
      fi
      case " $rules " in
      *" $where "*)
        # transport/ sits beside the cluster, not on the core: of the
        # core it uses the token comparison only.
        if [ "$top" = transport ] && [ "$where" = core ] &&
          [ "$name" != local_state.h ]; then
          violation "$file" "$line" "includes $inc of runtime/core/:" \
            "transport/ uses only local_state.h of the core"
        fi
        ;;
      *)
        violation "$file" "$line" "includes $inc of runtime/$where/:" \
          "a $top/ file may include only from: $rules"
        ;;
      esac
    elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<grpc/ ]]; then
      [ "$top" = transport ] ||
        violation "$file" "$line" "includes gRPC: only runtime/transport/ may"
    elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<hiredis/ ]]; then
      # The head's store: one backend file talks to Redis.
      [ "$file" = runtime/cluster/head/head_store_redis.c ] ||
        violation "$file" "$line" "includes hiredis: only" \
          "runtime/cluster/head/head_store_redis.c may"
    elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<microhttpd ]]; then
      [ "$top" = http ] || [ "$top" = serve ] ||
        violation "$file" "$line" "includes libmicrohttpd: only runtime/http/ and runtime/serve/ may"
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file" || true)
done < <(find runtime -name '*.[ch]' | sort)

# The Java glue uses the public ABI only: no runtime header, no gRPC.
while IFS= read -r file; do
  while IFS=: read -r line text; do
    if [[ $text =~ \"([^\"]+)\" ]]; then
      inc=${BASH_REMATCH[1]}
      name=${inc##*/}
      if [ "$inc" != manta.h ] && [ -n "${home[$name]:-}" ]; then
        violation "$file" "$line" "includes $inc of runtime/${home[$name]}/:" \
          "the Java binding uses manta.h only"
      fi
    elif [[ $text =~ \<grpc/ ]]; then
      violation "$file" "$line" "includes gRPC: only runtime/transport/ may"
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file" || true)
done < <(find bindings/java/jni -name '*.[ch]' | sort)

if [ "$fail" -ne 0 ]; then
  echo "check-layer-includes: the layer rules are broken (docs/architecture.md)"
  exit 1
fi
echo "check-layer-includes: every include follows the layer rules"
