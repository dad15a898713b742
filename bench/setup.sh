#!/usr/bin/env bash
# The benchmark's system tools: nginx (run by bench/stack.py with a private config) and wrk.
# Installs only when missing and only as root; otherwise the Stack falls back to gunicorn directly.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "bench: missing ${missing[*]} (install as root: apt-get install ${missing[*]})" >&2
  fi
fi
