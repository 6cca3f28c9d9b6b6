#!/bin/sh
# Party screening overhead: `check --format json` on a generated catalogue
# with a list of 5 000 generated (fictional) entries against the same check
# with an empty list (the screening pass has nothing to find), side by side
# in one hyperfine run; then the same with every product naming a distinct
# end user (no two names alike: the memo of names cannot help).
#   scripts/bench-screening.sh [PRODUCTS] [ENTRIES] [RUNS]   (default 100000 5000 10)
# Needs hyperfine and python3.
set -eu
n=${1:-100000}
entries=${2:-5000}
runs=${3:-10}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins --examples
dir=$(mktemp -d)
target/release/examples/gen_catalogue "$n" > "$dir/gen$n.catalogue.toml"
# Every product's end user made unique: "Customer 7" -> "Customer 7 Trading 000123".
awk '/^end_user = "Customer [0-9]+"$/ { sub(/"$/, sprintf(" Trading %06d\"", NR)) } { print }' \
  "$dir/gen$n.catalogue.toml" > "$dir/distinct$n.catalogue.toml"
target/release/examples/gen_parties "$entries" > "$dir/parties$entries.toml"
printf '[parties]\nid = "empty"\nversion = "1"\nreviewed_through = 2026-11-30\nnote = "no entries"\n' > "$dir/empty.toml"
out=$(mktemp)
bin=target/release/catalogue-lsp
hyperfine -N -i -w 2 -r "$runs" --export-json "$out" \
  "$bin check $dir/gen$n.catalogue.toml --format json --as-of 2026-06-01 --parties $dir/empty.toml" \
  "$bin check $dir/gen$n.catalogue.toml --format json --as-of 2026-06-01 --parties $dir/parties$entries.toml" \
  "$bin check $dir/distinct$n.catalogue.toml --format json --as-of 2026-06-01 --parties $dir/empty.toml" \
  "$bin check $dir/distinct$n.catalogue.toml --format json --as-of 2026-06-01 --parties $dir/parties$entries.toml" > /dev/null
python3 - "$out" "$entries" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
med = [x["median"] for x in r]
e = sys.argv[2]
names = ["50 end-user names, empty list", f"50 end-user names, {e} entries",
         "distinct end users, empty list", f"distinct end users, {e} entries"]
for name, m in zip(names, med):
    print(f"{name:36} median {m*1000:7.0f} ms")
print(f"screening overhead, 50 names:         {100*(med[1]/med[0]-1):+.1f} %")
print(f"screening overhead, distinct names:   {100*(med[3]/med[2]-1):+.1f} %")
PY
rm -rf "$out" "$dir"
