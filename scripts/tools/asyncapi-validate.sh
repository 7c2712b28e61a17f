#!/usr/bin/env bash
# Checks contracts/asyncapi/*.json with the official AsyncAPI parser (npm
# @asyncapi/parser, pinned, installed once under .local/npm/asyncapi): 0 errors and
# 0 warnings or it fails. Extra arguments replace the default file list.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION=3.6.6
DIR="$REPO/.local/npm/asyncapi"
if [[ "$(cat "$DIR/.version" 2>/dev/null)" != "$VERSION" ]]; then
  command -v npm >/dev/null || { echo "asyncapi: npm is needed (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$DIR"
  (cd "$DIR" && [[ -f package.json ]] || echo '{"private": true}' > "$DIR/package.json")
  npm install --prefix "$DIR" --no-audit --no-fund --silent "@asyncapi/parser@$VERSION" >&2
  echo "$VERSION" > "$DIR/.version"
fi
if [[ $# -eq 0 ]]; then
  set -- "$REPO"/contracts/asyncapi/*.json
fi
NODE_PATH="$DIR/node_modules" exec node "$REPO/scripts/tools/asyncapi-validate.cjs" "$@"
