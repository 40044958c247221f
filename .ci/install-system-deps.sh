#!/usr/bin/env bash
# Installs the system packages the test suites need (Debian, run as root) and
# makes sure PostgreSQL listens on 127.0.0.1:5432. Idempotent and quiet: apt is
# only touched when a package is missing.
#   - librdkafka-dev, gcc, pkg-config: test/support/kafka-broker (librdkafka mock cluster)
set -euo pipefail

PACKAGES=(librdkafka-dev gcc pkg-config chromium)

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

# PostgreSQL on 127.0.0.1:5432 (the e2e/database suites use it).
if ! pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ ! -d /etc/postgresql ]]; then
    echo "install-system-deps: PostgreSQL is not installed (no pg_ctlcluster or /etc/postgresql)" >&2
    exit 1
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "install-system-deps: starting PostgreSQL ${version}/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "install-system-deps: PostgreSQL did not become ready on 127.0.0.1:5432" >&2
    exit 1
  }
fi
