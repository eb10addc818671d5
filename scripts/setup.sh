#!/usr/bin/env bash
# Makes ./.venv and installs ClinicPress into it (editable), with optional extras.
# Works on a stock Debian/Ubuntu Python that refuses system-wide pip (PEP 668): nothing is
# installed into the system Python. Safe to run again: it only adds what is missing.
# Usage: bash scripts/setup.sh [EXTRA,...]      e.g. bash scripts/setup.sh test
# Environment: PYTHON (default: python3) chooses the interpreter the venv is made from.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
EXTRAS="${1:-}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {  # Debian/Ubuntu packages, only where apt exists
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: please install $* with your system's package manager" >&2
    return 1
  fi
  echo "setup: installing $* (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup: $PYTHON not found; install Python 3.11 or newer (or set PYTHON=/path/to/python3)" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: ClinicPress needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)" >&2
  exit 1
fi

# WeasyPrint draws text with Pango (a system library, not a Python package).
if command -v ldconfig >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0'; then
  apt_install libpango-1.0-0 libpangoft2-1.0-0 || exit 1
fi

# Chinese handouts are drawn with Noto Sans CJK SC (SIL OFL), a system font: at 56 MB it is too
# large to keep in the repository (Arabic's Vazirmatn, 250 KB, is in templates/handout/fonts/).
# Without it the build refuses Chinese handouts (glyphs.font_missing) and builds everything else.
if ! fc-list ':family=Noto Sans CJK SC' family 2>/dev/null | grep -q .; then
  apt_install fonts-noto-cjk ||
    echo "setup: Chinese (zh-Hans) handouts need the Noto Sans CJK SC font (Debian: fonts-noto-cjk)" >&2
fi

if [ ! -x .venv/bin/python ]; then
  # Debian and Ubuntu ship venv's pip bootstrap separately, in pythonX.Y-venv.
  if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
    apt_install "python$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv" || exit 1
  fi
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi

# Language-help taglines (templates/languages/*.yml `font`): Hindi in Lohit Devanagari (SIL OFL,
# 78 KB), Vietnamese and Russian in DejaVu Sans; Chinese, Japanese and Korean in Noto Sans CJK.
# Without one, `check` names the missing font (language_help.font) instead of printing boxes.
for font in "Lohit Devanagari:fonts-lohit-deva" "DejaVu Sans:fonts-dejavu-core" "Noto Sans CJK JP:fonts-noto-cjk"; do
  if command -v fc-list >/dev/null 2>&1 && ! fc-list ":family=${font%%:*}" family 2>/dev/null | grep -q .; then
    apt_install "${font##*:}" || echo "setup: language-help taglines need the ${font%%:*} font (Debian: ${font##*:})" >&2
  fi
done

spec="."
[ -z "$EXTRAS" ] || spec=".[$EXTRAS]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
echo "setup: ClinicPress installed in .venv ($(.venv/bin/python -V)); run it as .venv/bin/python build.py or .venv/bin/clinicpress"
