#!/usr/bin/env bash
# Installs the system packages the project needs, if missing:
#   libmariadb-dev + pkg-config  (mysqlclient compiles against them)
#   chromium                     (browser tests drive Debian's Chromium)
#   tesseract-ocr, tesseract-ocr-eng, tesseract-ocr-hin
#                                (OCR of uploaded medical records, English and Hindi)
#   poppler-utils                (pdftoppm renders scanned PDF pages for OCR)
# As root with apt-get it installs them; otherwise it says what to install.
set -euo pipefail

missing=()
pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || missing+=(libmariadb-dev pkg-config)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
langs="$(tesseract --list-langs 2>/dev/null || true)"
grep -qx eng <<<"$langs" || missing+=(tesseract-ocr-eng)
grep -qx hin <<<"$langs" || missing+=(tesseract-ocr-hin)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)

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
    # Only the MariaDB headers are needed to install. Without Chromium the
    # browser tests skip (and fail under CI); without Tesseract or pdftoppm
    # uploads still work and say OCR is not installed (the OCR tests skip).
    required=()
    for pkg in "${missing[@]}"; do
        case "$pkg" in
            chromium | tesseract-ocr | tesseract-ocr-eng | tesseract-ocr-hin | poppler-utils) ;;
            *) required+=("$pkg") ;;
        esac
    done
    [ ${#required[@]} -eq 0 ] || exit 1
fi
