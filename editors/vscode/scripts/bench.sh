#!/usr/bin/env bash
# Editor-level benchmark in real VS Code (code-server 4.139.1, headless
# Chromium, default editor settings: breadcrumbs and sticky scroll on) with the
# project's extension and a probe extension (bench/probe) that times, in the
# extension host, open → first diagnostics and edit → diagnostics changed; the
# driver (bench/bench.js) adds edit → problem count shown in the status bar.
#   editors/vscode/scripts/bench.sh [PRODUCTS]        (default 10000)
# Env: EDITS (measured edits, default 30), WARMUP (default 6), PAUSE_MS (pause
# after each edit's diagnostics, default 1000), BENCH_OUT (JSON file, default
# editors/vscode/.e2e-artifacts/vscode-bench-PRODUCTS.json), BENCH_COUNT=0 to
# run the server without the copies of its input and output that count the
# requests per edit, the bytes of each kind of answer and the server's part of
# the timeline; BENCH_GEN_ARGS passes options to the generator ("--unlicensed
# 0": ~3 % need action); BENCH_VSIX installs that .vsix instead of the
# extension built from this tree; BENCH_KEYS=1 makes each edit a real key
# press typed into the editor (bench/bench.js, keystroke mode) instead of an
# edit made by the probe in the extension host.
set -euo pipefail
ext="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$ext/../.." && pwd)"
n="${1:-10000}"
case "$n" in '' | *[!0-9]*) echo "usage: $0 [PRODUCTS]" >&2; exit 2 ;; esac
artifacts="${E2E_ARTIFACTS:-$ext/.e2e-artifacts}"
mkdir -p "$artifacts"
out="${BENCH_OUT:-$artifacts/vscode-bench-$n.json}"
start=$(date +%s)

. "$ext/scripts/tools.sh"

# Server, generator, extension (with the release server bundled) and the probe.
(cd "$repo" && cargo build --release --quiet --locked --bin catalogue-lsp --example gen_catalogue)
(cd "$ext" && { [ -x node_modules/.bin/vsce ] && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --silent; })
# Package again only when the server or the extension changed.
if [ ! -f "$ext/catalogue-lsp.vsix" ] || [ -n "$(find "$repo/target/release/catalogue-lsp" "$ext/src" "$ext/package.json" -newer "$ext/catalogue-lsp.vsix" 2>/dev/null | head -1)" ]; then
  (cd "$ext" && npm run --silent package >/dev/null)
fi
echo "built and packaged after $(( $(date +%s) - start )) s"
work="$(mktemp -d)"
cs_pid=""
trap '[ -n "$cs_pid" ] && kill $cs_pid 2>/dev/null; rm -rf "$work"' EXIT
(cd "$ext/bench/probe" && "$ext/node_modules/.bin/vsce" package --no-dependencies --allow-missing-repository --skip-license --allow-star-activation -o "$work/probe.vsix" >/dev/null 2>&1) ||
  { echo "error: could not package the probe extension (bench/probe)" >&2; exit 1; }

# The catalogue alone in its folder.
mkdir -p "$work/ws" "$work/data/user/User"
file="$work/ws/gen$n.catalogue.toml"
# BENCH_GEN_ARGS: generator options, e.g. "--unlicensed 0" for ~3 % of
# products needing action (the condition of issue 16).
# shellcheck disable=SC2086
"$repo/target/release/examples/gen_catalogue" "$n" ${BENCH_GEN_ARGS:-} > "$file"

# Unless BENCH_COUNT=0: the server behind a relay (bench/relay.js) that
# copies its standard input and output and times each chunk, to count the
# requests it receives per edit and the bytes it answers, and to time when it
# received the edit and the pull and when it answered (the only setting
# changed; one process and two pipes more).
# BENCH_TRACE=1 also traces the LSP messages in the extension's output
# (slower: for finding where the time goes), BENCH_SETTINGS='{"...": ...}'
# adds user settings (e.g. breadcrumbs off, to see their share), BENCH_PROFILE=1
# writes CPU profiles of the window renderer and the extension host during the
# edits to $artifacts/vscode-bench-*.cpuprofile, summarised in the JSON.
stdin_log=""
stdout_log=""
settings='{}'
times_log=""
if [ "${BENCH_COUNT:-1}" != 0 ]; then
  stdin_log="$work/server-stdin.log"
  stdout_log="$work/server-stdout.log"
  times_log="$work/server-times.log"
  # bench/relay.js: the copies, and the time each chunk passed (the
  # timeline's server segments).
  cat > "$work/catalogue-lsp" <<WRAP
#!/bin/sh
exec "$(command -v node)" "$ext/bench/relay.js" "$work/server" "$repo/target/release/catalogue-lsp" "\$@"
WRAP
  chmod +x "$work/catalogue-lsp"
  settings="{\"catalogueLsp.server.path\": \"$work/catalogue-lsp\"}"
fi
[ "${BENCH_TRACE:-0}" = 1 ] && settings="$(node -e 'console.log(JSON.stringify({ ...JSON.parse(process.argv[1]), "catalogueLsp.trace.server": "messages" }))' "$settings")"
node -e 'require("fs").writeFileSync(process.argv[3], JSON.stringify({ ...JSON.parse(process.argv[1]), ...JSON.parse(process.argv[2]) }, null, 1))' \
  "$settings" "${BENCH_SETTINGS:-{\}}" "$work/data/user/User/settings.json" ||
  { echo "error: BENCH_SETTINGS is not a JSON object: ${BENCH_SETTINGS:-}" >&2; exit 2; }
echo "user settings: $(tr -d '\n' < "$work/data/user/User/settings.json")"

# BENCH_VSIX: another build of the extension (e.g. an earlier commit's, to
# alternate runs of two versions on the same machine state).
for vsix in "${BENCH_VSIX:-$ext/catalogue-lsp.vsix}" "$work/probe.vsix"; do
  node "$cs" --extensions-dir "$work/data/extensions" --user-data-dir "$work/data/user" --install-extension "$vsix" >/dev/null
done
port=$(( 20000 + RANDOM % 20000 ))
# BENCH_CS_ARGS: more code-server options (e.g. --disable-websocket-compression, to see its share).
# shellcheck disable=SC2086
CATALOGUE_BENCH_CONFIG="$work/probe-config.json" node "$cs" ${BENCH_CS_ARGS:-} --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --user-data-dir "$work/data/user" --extensions-dir "$work/data/extensions" \
  "$work/ws" > "$artifacts/code-server-bench.log" 2>&1 &
cs_pid=$!
healthy=""
for _ in $(seq 1 240); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then healthy=1; break; fi
  kill -0 $cs_pid 2>/dev/null || break
  sleep 0.5
done
if [ -z "$healthy" ]; then
  echo "error: code-server did not start on port $port; its log:" >&2
  tail -20 "$artifacts/code-server-bench.log" >&2
  exit 1
fi

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
PORT=$port FOLDER="$work/ws" FILE="$file" CONFIG="$work/probe-config.json" PROBE_OUT="$work/probe-out.json" OUT="$out" \
  PRODUCTS="$n" KEYS="${BENCH_KEYS:-0}" EDITS="${EDITS:-30}" WARMUP="${WARMUP:-6}" PAUSE_MS="${PAUSE_MS:-1000}" STDIN_LOG="$stdin_log" STDOUT_LOG="$stdout_log" TIMES_LOG="$times_log" ARTIFACTS="$artifacts" \
  node "$ext/bench/bench.js"
if [ -n "$stdin_log" ]; then
  cp "$stdin_log" "$artifacts/vscode-bench-server-input.log"
  cp "$stdout_log" "$artifacts/vscode-bench-server-output.log"
fi
if [ "${BENCH_TRACE:-0}" = 1 ]; then
  find "$work/data/user/logs" -name '*Catalogue LSP*' -exec cp {} "$artifacts/vscode-bench-trace.log" \; 2>/dev/null || true
fi
echo "vscode bench took $(( $(date +%s) - start )) s"
