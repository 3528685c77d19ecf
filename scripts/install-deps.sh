#!/usr/bin/env bash
# Installs what building and testing manta needs on Debian 12 (bookworm).
#
# Idempotent: asks dpkg which of the packages below are missing and runs
# apt-get (one `update`, one `install`) only for those. When everything is
# present it touches neither apt nor the network and needs no root.
#
#   bash scripts/install-deps.sh          install what is missing
#   bash scripts/install-deps.sh --check  only report; exit 1 if any missing
set -euo pipefail

# What each package is for:
#   build-essential, cmake, pkg-config      the build
#   libprotobuf-c-dev, protobuf-c-compiler  values and messages (proto/)
#   libgrpc-dev                             gRPC core's C API: the transport
#                                           between nodes (runtime/transport)
#   python3-grpcio, python3-protobuf,       a foreign gRPC client for the
#   protobuf-compiler                       protocol interop test
#   python3                                 checks the raw gRPC benchmark's
#                                           JSON in its smoke test
#   abigail-tools                           abidw/abidiff: the ABI baseline
#   clang, libclang-rt-14-dev               second compiler, libFuzzer
#   clang-format                            the one formatter (.clang-format)
#   valgrind                                memory checking outside sanitizers
#   openjdk-17-jdk-headless                 the Java binding: javac, jar, JNI
#                                           headers, libjvm (bindings/java)
#   junit5                                  JUnit 5 console launcher for the
#                                           Java tests under CTest
#   git, ca-certificates                    the repository itself
#   openssl                                 certificates for TLS: the TLS
#                                           test and scripts/tls-generate.sh
#   libmicrohttpd-dev                       the node's HTTP server (/metrics;
#                                           runtime/http, docs/observability.md)
#   libgnutls28-dev                         HTTPS client of `manta serve` (a
#                                           TLS cluster's ingress; runtime/cli)
#   curl, prometheus                        the metrics test scrapes over real
#                                           HTTP and checks the text with
#                                           promtool check metrics
#   wrk                                     the HTTP load generator that chose
#                                           the HTTP library (bench/http)
#   lintian                                 checks the Debian package
#                                           (tests/package, docs/deploy.md)
#   slurmctld, slurmd, slurm-client, munge  a one-machine Slurm cluster for
#                                           the Slurm test (deploy/slurm)
#   yamllint                                checks the Kubernetes manifests
#                                           (deploy/kubernetes)
#   libjansson-dev                          JSON: Serve's bodies, the dashboard's API
#                                           (/api/, runtime/http/api_*.c),
#                                           the timeline's trace file, and
#                                           json/jsonb columns of the
#                                           database actors
#   chromium, chromium-driver               the dashboard's browser test:
#                                           headless Chromium driven over
#                                           WebDriver on loopback
#   postgresql, libpq-dev                   the database actors' example and
#                                           test: a throwaway server, libpq
#                                           (examples/db_aggregate)
#   libpostgresql-jdbc-java,                the Java Aggregator: JDBC driver,
#   libgoogle-gson-java                     JSON columns as maps and lists
#   libyaml-dev                             Serve's deployment files
#                                           (runtime/serve, docs/serve.md)
#   bsdutils                                script(1): a real terminal for
#                                           the CLI's progress bar (cli_stop)
#   redis-server, libhiredis-dev            the head's durable store: hiredis
#                                           is its client (runtime/cluster/
#                                           head/head_store_redis.c), the
#                                           server runs in the store's tests
#                                           (docs/head-store.md)
#   iproute2                                `ss`: the bytes each node's TCP
#                                           sockets sent (bench/scale_nodes.py)
PACKAGES=(
  build-essential cmake pkg-config
  libprotobuf-c-dev protobuf-c-compiler
  libgrpc-dev
  python3-grpcio python3-protobuf protobuf-compiler
  abigail-tools
  clang libclang-rt-14-dev clang-format
  valgrind
  python3
  openjdk-17-jdk-headless junit5
  git ca-certificates
  openssl
  libmicrohttpd-dev libgnutls28-dev curl prometheus wrk
  lintian
  slurmctld slurmd slurm-client munge
  yamllint
  libjansson-dev chromium chromium-driver
  postgresql libpq-dev libpostgresql-jdbc-java
  libgoogle-gson-java
  libyaml-dev
  bsdutils
  redis-server libhiredis-dev
  iproute2
)

check_only=0
case "${1:-}" in
"") ;;
--check) check_only=1 ;;
-h | --help)
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 0
  ;;
*)
  echo "install-deps: unknown option '$1' (try --help)" >&2
  exit 2
  ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: dpkg-query not found; this script is for Debian 12." >&2
  exit 1
fi

installed() {
  # "install ok installed" is the only state in which a package is usable
  # (not half-configured, not removed with config files left behind).
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = \
    "install ok installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present; nothing to do."
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [ "$check_only" -eq 1 ]; then
  exit 1
fi

if [ -r /etc/os-release ]; then
  # shellcheck source=/dev/null
  . /etc/os-release
  if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then
    echo "install-deps: warning: written for Debian 12, this is" \
      "${PRETTY_NAME:-unknown}; trying anyway." >&2
  fi
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: run as root (or install sudo) to install:" \
      "${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "install-deps: apt-get install ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends "${missing[@]}"

still=()
for pkg in "${missing[@]}"; do
  if ! installed "$pkg"; then
    still+=("$pkg")
  fi
done
if [ "${#still[@]}" -ne 0 ]; then
  echo "install-deps: still missing after apt-get: ${still[*]}" >&2
  exit 1
fi
echo "install-deps: installed ${#missing[@]} package(s); all present now."
