"""Sum up an event-loop stall trace (``soak.py --stalls FILE``, see ``stalltrace/sitecustomize.py``): how many
callbacks ran longer than the threshold (or, with ``--late``, how often the loop's heartbeat came late), their total
and worst time, the garbage collections among them, and the functions of ours (``backloop/``) and the innermost
frames that the sampled stacks spent the most time in.

    python benchmarks/stalls.py FILE [--top 15] [--late]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--late", action="store_true",
                        help="attribute the heartbeat's late arrivals instead of the long callbacks")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    beats = [r for r in records if r.get("kind") == "beats"]
    if beats:  # medians of the per-window percentiles
        p50, p95, p99, top = (statistics.median(b["ms"][i] for b in beats) for i in range(4))
        print(f"heartbeat lateness over {sum(b['n'] for b in beats)} beats in {len(beats)} windows (medians of the "
              f"windows): p50 {p50:.2f} ms, p95 {p95:.2f} ms, p99 {p99:.2f} ms, max {top:.1f} ms; worst window p99 "
              f"{max(b['ms'][2] for b in beats):.1f} ms")
    late = [r["ms"] for r in records if r.get("kind") == "late"]
    if late:
        late.sort()
        print(f"heartbeat (every 5 ms) late by >= the threshold {len(late)} times: median {statistics.median(late):.1f}"
              f" ms, max {late[-1]:.1f} ms, total {sum(late):.0f} ms")
    if args.late:
        records = [r for r in records if r.get("kind") == "late"]
    else:
        records = [r for r in records if r.get("kind", "callback") == "callback"]
    stalls = records
    if not stalls:
        print("no stalls recorded")
        return
    times = [s["ms"] for s in stalls]
    gcs = [g for s in stalls for g in s["gc"]]
    what = "late heartbeats" if args.late else "callbacks over the threshold"
    print(f"{len(stalls)} {what}: total {sum(times):.0f} ms, median {statistics.median(times):.1f} ms, max "
          f"{max(times):.1f} ms; {len(gcs)} collections of >= 2 ms in them ({sum(g[1] for g in gcs):.0f} ms, "
          f"by generation {dict(Counter(g[0] for g in gcs))})")
    ours: Counter[str] = Counter()
    innermost: Counter[str] = Counter()
    callbacks: Counter[str] = Counter()
    for s in stalls:
        samples = sum(n for _, n in s["stacks"]) or 1
        callbacks[s["callback"].split(" at ")[0][:120]] += s["ms"]
        for stack, n in s["stacks"]:
            share = s["ms"] * n / samples
            frames = stack.split(" < ")
            innermost[frames[0]] += share
            for frame in frames:  # the innermost of our own frames
                if frame.startswith("backloop/"):
                    ours[frame] += share
                    break
    for title, counter in (("by callback", callbacks), ("innermost frame of ours", ours),
                           ("innermost frame", innermost)):
        print(f"\n{title} (ms, sampled share):")
        for name, ms in counter.most_common(args.top):
            print(f"  {ms:8.0f}  {name}")


if __name__ == "__main__":
    main()
