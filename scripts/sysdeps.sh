#!/usr/bin/env bash
# Installs the system packages the project needs, if missing:
#   libmariadb-dev + pkg-config  (mysqlclient compiles against them)
#   chromium                     (browser tests drive Debian's Chromium)
# As root with apt-get it installs them; otherwise it says what to install.
set -euo pipefail

missing=()
pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || missing+=(libmariadb-dev pkg-config)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)

[ ${#missing[@]} -eq 0 ] && exit 0

# shellcheck disable=SC2207
missing=($(printf '%s\n' "${missing[@]}" | sort -u))
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "Missing system packages. Install them with:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    # Only the MariaDB headers are needed to install; without Chromium the
    # browser tests skip (and fail under CI).
    [ "${missing[*]}" = "chromium" ] || exit 1
fi
