#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it: static checks, then unit,
# integration, end-to-end, crash and deploy tests against real servers. Starts the
# local stack when it is not running and stops again only what it started.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$REPO"
PY="$REPO/.local/venv/bin/python"
step() { printf '\n==> %s\n' "$*"; }

step "generated gRPC code is up to date"
"$PY" -m hallway_dev.protogen --check

step "ruff"
"$REPO/.local/venv/bin/ruff" check .
"$REPO/.local/venv/bin/ruff" format --check .

step "import boundaries (import-linter contracts in pyproject.toml)"
"$REPO/.local/venv/bin/lint-imports" --no-cache

step "local stack (Kafka, PostgreSQL, OpenSearch, SMTP sink)"
started_stack=0
if ! scripts/stack/status.sh >/dev/null 2>&1; then
  started_stack=1
fi
cleanup() {
  if [[ $started_stack == 1 ]]; then
    step "stopping the stack this run started"
    scripts/stack/down.sh || true
  fi
}
trap cleanup EXIT
scripts/stack/up.sh
export HALLWAY_STACK_ASSUMED_UP=1

step "pytest"
set +e
"$PY" -m pytest --durations=15 "$@"
status=$?
set -e
if [[ $status == 5 ]]; then
  echo "pytest collected no tests: that is a failure here" >&2
  status=1
fi
exit "$status"
