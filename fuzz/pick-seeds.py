#!/usr/bin/env python3
"""Picks a small seed corpus from a grown one by coverage (greedy set cover).

    fuzz/pick-seeds.py TARGET [N]      (default N = 25; run from the repository root)

Needs a built target (`cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O`) and
the grown corpus in fuzz/corpus/TARGET (outside git). libFuzzer's merge writes,
for every input, the features it reaches (edges, with hit counts bucketed);
this script takes the input that adds the most edges not yet reached (then
the most features, then the smallest), N times. It copies the picks into fuzz/seeds/TARGET
under readable names (NN-<start of the text>) next to the hand-written seeds
already there, and prints how much of the corpus's coverage they reach.
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def features(target):
    binary = os.path.join(ROOT, "fuzz/target/x86_64-unknown-linux-gnu/release", target)
    corpus = os.path.join(ROOT, "fuzz/corpus", target)
    with tempfile.TemporaryDirectory() as out:
        control = os.path.join(out, "control")
        os.mkdir(os.path.join(out, "merged"))
        # With -set_cover_merge each input's FT line holds all its features,
        # not only those the inputs before it had not reached.
        subprocess.run(
            [binary, "-set_cover_merge=1", f"-merge_control_file={control}",
             os.path.join(out, "merged"), corpus],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lines = open(control).read().splitlines()
    n = int(lines[0])
    files = lines[2:2 + n]
    ft = {}
    for line in lines[2 + n:]:
        parts = line.split()
        if parts and parts[0] == "FT":
            ft[int(parts[1])] = set(map(int, parts[2:]))
    return files, ft


def edges(features):
    # A coverage counter's feature is 8 * its index + the bucket of its count.
    return {f // 8 for f in features}


def slug(data):
    text = data.decode("utf-8", "replace")
    for line in text.splitlines():
        s = re.sub(r"[^A-Za-z0-9]+", "-", line).strip("-").lower()[:32].strip("-")
        if len(s) >= 3:
            return s
    return "bytes"


def main():
    target = sys.argv[1]
    want = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    files, ft = features(target)
    size = {i: os.path.getsize(f) for i, f in enumerate(files)}
    ed = {i: edges(f) for i, f in ft.items()}
    reached, reached_ft, picks = set(), set(), []
    for _ in range(want):
        # Most new edges, then most new features, then the smallest.
        best = max(ft, key=lambda i: (len(ed[i] - reached), len(ft[i] - reached_ft), -size[i]),
                   default=None)
        if best is None or not ft[best] - reached_ft:
            break
        picks.append(best)
        reached |= ed[best]
        reached_ft |= ft[best]
    all_ft = set().union(*ft.values())
    all_ed = set().union(*ed.values())
    seeds = os.path.join(ROOT, "fuzz/seeds", target)
    os.makedirs(seeds, exist_ok=True)
    for k, i in enumerate(picks, 1):
        data = open(files[i], "rb").read()
        with open(os.path.join(seeds, f"{k:02}-{slug(data)}"), "wb") as f:
            f.write(data)
    print(f"{target}: {len(picks)} of {len(files)} inputs, "
          f"{sum(size[i] for i in picks)} bytes; edges {len(reached)}/{len(all_ed)}, "
          f"features {len(reached_ft)}/{len(all_ft)}")


if __name__ == "__main__":
    main()
