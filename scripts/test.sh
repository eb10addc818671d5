#!/usr/bin/env bash
# Installs everything the tests need (Debian tools; the package and its test extras in ./.venv),
# then runs the whole suite.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package providing it
declare -A TOOLS=(
  [soffice]=libreoffice-impress
  [pdftoppm]=poppler-utils
  [pdfinfo]=poppler-utils
  [pdffonts]=poppler-utils
  [qpdf]=qpdf
  [zbarimg]=zbar-tools
  [chromium]=chromium
)
missing=()
for cmd in "${!TOOLS[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${TOOLS[$cmd]}")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u) libreoffice-core fonts-dejavu-core >/dev/null
fi

bash scripts/setup.sh test   # ./.venv with the package and the test extras (no system-wide pip)
PY=.venv/bin/python
if [ "$#" -eq 0 ]; then  # the whole suite: the package must also pass lint, format and type checks
  $PY -m ruff check clinicpress tests bench build.py
  $PY -m ruff format --check clinicpress
  $PY -m mypy
  # two test processes (pytest-xdist), a test file each: most tests wait on a build, LibreOffice
  # or Chromium in another process, so the suite takes about 12 minutes here instead of 18
  set -- -n 2 --dist loadfile
fi
export CLINICPRESS_REQUIRE_TOOLS=1   # a test whose tool is missing fails instead of skipping
exec $PY -m pytest "$@"
