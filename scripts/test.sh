#!/usr/bin/env bash
# Set up and run every check: lint, types, unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "local,test,distributed"
bash scripts/setup-postgres.sh
bash scripts/setup-chromium.sh
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 LANGGRAPH_CLI_NO_ANALYTICS=1
unset LANGSMITH_TRACING
.venv/bin/ruff check personascope tests benchmarks
.venv/bin/ruff format --check personascope tests benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
