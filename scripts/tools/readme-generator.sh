#!/usr/bin/env bash
# Install Bitnami's readme-generator-for-helm (npm @bitnami/readme-generator-for-helm,
# pinned) into .local/node/readme-generator, idempotently, and print the path of its CLI.
#   scripts/tools/readme-generator.sh      -> /…/.local/node/readme-generator/node_modules/.bin/readme-generator
# It turns the `## @section` / `## @param` comments of charts/hallway/values.yaml into
# the parameter tables of charts/hallway/README.md:
#   "$(scripts/tools/readme-generator.sh)" -v charts/hallway/values.yaml -r charts/hallway/README.md
# (tests/deploy/test_chart_readme.py fails when the README is stale).
set -euo pipefail
VERSION="${README_GENERATOR_VERSION:-2.7.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${ROOT}/.local/node/readme-generator"
BIN="${DIR}/node_modules/.bin/readme-generator"

if [[ -x "${BIN}" && "$(cat "${DIR}/.version" 2>/dev/null)" == "${VERSION}" ]]; then
  echo "${BIN}"
  exit 0
fi
command -v npm >/dev/null || { echo "readme-generator.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
mkdir -p "${DIR}"
# Serialise concurrent installs (parallel test workers).
exec 9>"${DIR}/.lock"
flock 9
if [[ ! -x "${BIN}" || "$(cat "${DIR}/.version" 2>/dev/null)" != "${VERSION}" ]]; then
  [[ -f "${DIR}/package.json" ]] || echo '{"private": true}' >"${DIR}/package.json"
  echo "readme-generator.sh: npm install @bitnami/readme-generator-for-helm@${VERSION}" >&2
  npm install --prefix "${DIR}" --no-audit --no-fund --silent --save-exact \
    "@bitnami/readme-generator-for-helm@${VERSION}" >&2
  echo "${VERSION}" >"${DIR}/.version"
fi
echo "${BIN}"
