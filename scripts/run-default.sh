#!/usr/bin/env bash
# Install siteplan and run the main job on the embedded Guangyuan default data.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e .
siteplan run "$@"
