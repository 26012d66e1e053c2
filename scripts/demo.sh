#!/usr/bin/env bash
# Set up personascope and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "local"
.venv/bin/personascope score --scale ipip-bfm-50 --answers examples/answers-ipip-bfm-50.yaml
