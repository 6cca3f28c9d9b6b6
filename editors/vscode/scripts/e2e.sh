#!/usr/bin/env bash
# End-to-end test of the VS Code extension in real VS Code (code-server),
# driven by headless Chromium through playwright-core. Installs what it
# needs (Node 24, code-server, Chromium) into a cache when missing.
# Screenshots go to $E2E_ARTIFACTS (default editors/vscode/.e2e-artifacts).
set -euo pipefail
ext="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$ext/../.." && pwd)"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$ext/.e2e-artifacts}"
mkdir -p "$E2E_ARTIFACTS"
start=$(date +%s)

. "$ext/scripts/tools.sh"

# Server and extension.
(cd "$repo" && cargo build --release --quiet --locked)
(cd "$ext" && npm ci --no-audit --no-fund --silent && npm run --silent package)
# The extension's types and its unit tests (plain node, a stand-in vscode module).
(cd "$ext" && npm run --silent typecheck && npm run --silent unit)

# A workspace: the licence register from the examples and the fixture.
ws="$(mktemp -d)"
cp "$repo/examples/licences.catalogue.toml" "$ext/test/e2e.catalogue.toml" "$ext/test/parts.catalogue.csv" "$ext/test/limits.catalogue.toml" "$ws/"
# 600 products (3 000 lines), for lenses after a long jump: the extension asks
# for the lenses near the view only (catalogue/codeLens).
node -e 'let s = "[catalogue]\nas_of = 2026-06-01\n\n"; for (let i = 0; i < 600; i++) s += `[[product]]\nsku = "S-${String(i).padStart(5, "0")}"\nform = "oxide"\ncomposition = { La2O3 = 99 }\n\n`; require("fs").writeFileSync(process.argv[1], s)' "$ws/scroll.catalogue.toml"
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
