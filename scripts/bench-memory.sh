#!/bin/sh
# Peak RSS, wall and CPU time of `check` per output format (human, json, sarif),
# output to /dev/null, the median of RUNS runs each (/usr/bin/time -v).
#   scripts/bench-memory.sh [PRODUCTS] [RUNS] [SHIPMENTS]
#   (default 1000000 products, 3 runs, no shipments; SHIPMENTS: [[shipment]]
#   tables per product, e.g. 3 for 100k products + 300k shipments)
# CHECK_BIN=path measures another build of catalogue-lsp (e.g. an older one);
# CATALOGUE=path measures that file instead of generating one.
# Needs GNU time (/usr/bin/time) and python3.
set -eu
n=${1:-1000000}
runs=${2:-3}
ships=${3:-0}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins --examples
bin=${CHECK_BIN:-target/release/catalogue-lsp}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file=${CATALOGUE:-}
if [ -z "$file" ]; then
  file=$dir/gen$n.catalogue.toml
  target/release/examples/gen_catalogue "$n" "$ships" > "$file"
fi
echo "$(du -m "$file" | cut -f1) MB catalogue ($n products, $ships shipments per product); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for format in human json sarif; do
  for i in $(seq "$runs"); do
    # Exit 1 (error diagnostics) is expected; 2 is not.
    rc=0
    /usr/bin/time -v -o "$dir/time.$format.$i" "$bin" check "$file" --format "$format" --as-of 2026-06-01 > /dev/null || rc=$?
    if [ "$rc" -gt 1 ]; then
      echo "check --format $format exited $rc" >&2
      exit 1
    fi
  done
done
python3 - "$dir" "$runs" <<'PY'
import re, statistics, sys
d, runs = sys.argv[1], int(sys.argv[2])
def wall(s):
    parts = [float(x) for x in s.split(":")]
    sec = 0.0
    for p in parts:
        sec = sec * 60 + p
    return sec
for fmt in ["human", "json", "sarif"]:
    rss, secs, cpu = [], [], []
    for i in range(1, runs + 1):
        t = open(f"{d}/time.{fmt}.{i}").read()
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024)
        secs.append(wall(re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)))
        cpu.append(sum(float(re.search(rf"{k} time \(seconds\): (\S+)", t).group(1)) for k in ["User", "System"]))
    print(f"check --format {fmt:5}  peak RSS median {statistics.median(rss):7.0f} MB (runs: {', '.join(f'{x:.0f}' for x in rss)})"
          f"  wall median {statistics.median(secs):6.2f} s (runs: {', '.join(f'{x:.2f}' for x in secs)})"
          f"  CPU (user+sys) median {statistics.median(cpu):6.2f} s")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
