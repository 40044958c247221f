#!/usr/bin/env bash
# Installs the system packages the test suites need (Debian, run as root) and
# makes sure PostgreSQL listens on 127.0.0.1:5432. Idempotent and quiet: apt is
# only touched when a package is missing.
#   - librdkafka-dev, gcc, pkg-config: test/support/kafka-broker (librdkafka mock cluster)
#   - libjemalloc2: the allocator the image preloads (chart <app>.runtime.allocator); the benchmark's deployed mode
#     and the memory probe start the apps with it, as the chart does
set -euo pipefail

PACKAGES=(librdkafka-dev gcc pkg-config chromium libjemalloc2)

missing=()
for pkg in "${PACKAGES[@]}"; do
  # `dpkg -s` also succeeds for removed packages whose config files remain: check the status.
  if [[ $(dpkg -s "$pkg" 2>/dev/null | sed -n 's/^Status: //p') != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-system-deps: missing ${missing[*]}; run this script as root" >&2
    exit 1
  fi
  echo "install-system-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_log=$(mktemp)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    echo "install-system-deps: apt-get failed installing ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi

# PostgreSQL on 127.0.0.1:5432 (the e2e/database suites connect as `postgres` without a password, see
# test/support/postgres.ts). Skipped when TEST_POSTGRES_URL points the suites at another server. Otherwise:
# Debian's `postgresql` package is installed when there is no cluster, the newest cluster is started when
# nothing answers on 5432, and if `postgres` cannot connect over TCP without a password, trust for
# 127.0.0.1 / ::1 is added at the top of that cluster's pg_hba.conf (once; marked) and the cluster reloaded.
if [[ -n ${TEST_POSTGRES_URL:-} ]]; then
  exit 0
fi

as_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-system-deps: $1; run this script as root" >&2
    exit 1
  fi
}

can_connect() {
  PGCONNECT_TIMEOUT=5 psql -w -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

newest_cluster() {
  ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1
}

if ! pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  if [[ -z $(newest_cluster) ]] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    as_root "PostgreSQL is not installed"
    echo "install-system-deps: installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } >"$apt_log" 2>&1; then
      cat "$apt_log" >&2
      rm -f "$apt_log"
      echo "install-system-deps: apt-get failed installing postgresql" >&2
      exit 1
    fi
    rm -f "$apt_log"
  fi
  version=$(newest_cluster)
  if [[ -z $version || ! -d /etc/postgresql/$version/main ]]; then
    echo "install-system-deps: no PostgreSQL cluster in /etc/postgresql (expected <version>/main)" >&2
    exit 1
  fi
  # Installing may have started it already (the package's service start, where there is an init system).
  if ! pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    as_root "PostgreSQL ${version}/main is not running"
    echo "install-system-deps: starting PostgreSQL ${version}/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "install-system-deps: PostgreSQL did not become ready on 127.0.0.1:5432" >&2
    exit 1
  }
fi

if command -v psql >/dev/null 2>&1 && ! can_connect; then
  version=$(newest_cluster)
  hba=/etc/postgresql/${version}/main/pg_hba.conf
  marker='# meditron-cds test suites (.ci/install-system-deps.sh)'
  if [[ -z $version || ! -f $hba ]] || grep -qF "$marker" "$hba"; then
    echo "install-system-deps: PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password;" \
      "allow it (trust for 127.0.0.1) or set TEST_POSTGRES_URL" >&2
    exit 1
  fi
  as_root "PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password"
  echo "install-system-deps: trusting local TCP connections in ${hba}"
  hba_new=$(mktemp)
  {
    echo "$marker: local TCP connections without a password"
    echo "host all all 127.0.0.1/32 trust"
    echo "host all all ::1/128 trust"
    cat "$hba"
  } >"$hba_new"
  cat "$hba_new" >"$hba"
  rm -f "$hba_new"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  can_connect || {
    echo "install-system-deps: user postgres still cannot connect to 127.0.0.1:5432" >&2
    exit 1
  }
fi
