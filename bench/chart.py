#!/usr/bin/env python3
"""Draws docs/benchmarks.png from bench/results.json: wall time against namespace count,
log-log, one series per contender, min-max whiskers, extrapolated points hollow and dashed.

Usage: chart.py RESULTS_JSON OUT_PNG
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display here: render straight to a file
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

# key, legend label, colour, marker, label offset (points) so that close points stay readable
SERIES = [
    ("ours", "our script (dist/)", "#1f77b4", "o", (10, -12)),
    ("original", "original article's loop", "#d62728", "s", (10, -4)),
    ("floor", "floor: one kubectl apply --server-side", "#2ca02c", "^", (-44, 5)),
]


def seconds(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.3g} s"


def main(results_path: str, out_path: str) -> None:
    with open(results_path, encoding="utf-8") as f:
        results = json.load(f)
    sizes = sorted(results["sizes"], key=lambda s: s["n"])

    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    handles = []
    for key, label, color, marker, offset in SERIES:
        present = [s for s in sizes if s.get(key) is not None]
        measured = [(s["n"], s[key]) for s in present if not s[key].get("extrapolated")]
        guessed = [(s["n"], s[key]) for s in present if s[key].get("extrapolated")]
        if measured:
            xs = [n for n, _ in measured]
            ys = [r["median_s"] for _, r in measured]
            low = [r["median_s"] - r["min_s"] for _, r in measured]
            high = [r["max_s"] - r["median_s"] for _, r in measured]
            handles.append(ax.errorbar(xs, ys, yerr=[low, high], color=color, marker=marker, capsize=3,
                                       label=label))
        if guessed:
            # Continue the measured line to the extrapolated points, dashed and hollow.
            tail = [(n, r["median_s"]) for n, r in measured[-1:]] + [(n, r["median_s"]) for n, r in guessed]
            ax.plot([n for n, _ in tail], [t for _, t in tail], color=color, linestyle="--")
            handles += ax.plot([n for n, _ in guessed], [r["median_s"] for _, r in guessed],
                               color=color, marker=marker, markerfacecolor="white", linestyle="none",
                               label=f"{label} (extrapolated)")
        for n, r in measured + guessed:
            ax.annotate(seconds(r["median_s"]), (n, r["median_s"]), textcoords="offset points",
                        xytext=offset, fontsize=8, color=color)

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([s["n"] for s in sizes])
    ax.set_xticklabels([f"{s['n']:,}" for s in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y:g}"))
    ax.set_xlim(min(s["n"] for s in sizes) / 1.6, max(s["n"] for s in sizes) * 2.2)
    ax.set_xlabel("namespaces created (each run also writes the cluster's own few)")
    ax.set_ylabel("wall time per refresh run, s (median, min-max)")
    ax.set_title("Refreshing one ECR pull Secret in every namespace")
    ax.grid(True, which="both", linewidth=0.4, alpha=0.5)
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    fig.text(0.99, 0.01, results["machine"], fontsize=6, ha="right", va="bottom", color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
