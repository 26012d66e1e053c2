#!/usr/bin/env bash
# Set up personascope and run the main job: interview Sherlock Holmes with the IPIP
# Big-Five Factor Markers on the embedded local models and print the scores (run again, it
# continues the same run: --resume, so a finished one is printed at once).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "local"
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1
.venv/bin/personascope run --character sherlock-holmes --scale ipip-bfm-50 \
  --model local:smollm2 --assessor local --max-tokens 64 --dir runs/demo --resume
