#!/bin/sh
# `check --format json` against the toml-crate floor, side by side in one
# hyperfine run; prints the median of each and the ratios.
#   scripts/bench-check.sh [PRODUCTS] [RUNS] [SHIPMENTS]
#   (default 100000 products, 15 runs, no shipments; SHIPMENTS: [[shipment]]
#   tables per product, e.g. 3 for 100k products + 300k shipments)
# Needs hyperfine (cargo install hyperfine --locked) and python3.
set -eu
n=${1:-100000}
runs=${2:-15}
ships=${3:-0}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins --examples
file=$(mktemp -d)/gen$n.catalogue.toml
target/release/examples/gen_catalogue "$n" "$ships" > "$file"
out=$(mktemp)
hyperfine -N -i -w 2 -r "$runs" --export-json "$out" \
  "target/release/examples/toml_floor $file" \
  "target/release/examples/toml_floor_mimalloc $file" \
  "target/release/catalogue-lsp check $file --format json --as-of 2026-06-01" > /dev/null
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
med = [x["median"] for x in r]
names = ["toml crate (system allocator)", "toml crate (mimalloc)", "catalogue-lsp check --format json"]
for name, m in zip(names, med):
    print(f"{name:40} median {m*1000:7.0f} ms")
print(f"check / toml floor (system allocator): {med[2]/med[0]:.2f}x")
print(f"check / toml floor (mimalloc):         {med[2]/med[1]:.2f}x")
PY
rm -f "$out" "$file"
