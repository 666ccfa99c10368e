#!/usr/bin/env bash
# Install siteplan with its test extras and run the whole test suite (notebooks included).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
python -m pytest -n 2 --dist loadfile -p no:benchmark --nbmake tests notebooks "$@"
