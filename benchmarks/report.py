"""Tables, target checks, JSON and the chart, from the rows the measurements produce.

Targets are judged on end-to-end cost (registration + run) so that a runner cannot look
cheap by moving work out of the timed run; run-only figures are shown alongside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

RUNNER_ORDER = ("ours", "ours-cp", "handrolled", "dask", "original")
TARGET_KINDS = ("independent", "fan", "layered", "suite")


def _find(rows: list[dict[str, Any]], spec: str, runner: str) -> Optional[dict[str, Any]]:
    return next((r for r in rows if r["spec"] == spec and r["runner"] == runner), None)


def _num(value: Optional[float], fmt: str = "{:.1f}", est: bool = False) -> str:
    if value is None:
        return "-"
    return fmt.format(value) + ("*" if est else "")


def noop_table(rows: list[dict[str, Any]]) -> str:
    specs = list(dict.fromkeys(r["spec"] for r in rows if not r.get("measured_at")
                               or r.get("estimate")))
    head = (f"{'graph':<18}{'tasks':>7}{'ours run':>10}{'ours':>9}{'hand run':>10}"
            f"{'hand':>9}{'dask':>9}{'original*':>11}{'ours/hand':>11}{'cp run/ours run':>17}")
    lines = ["NO-OP bodies: µs per task (chain: per dependency level), median; columns "
             "without 'run' are end to end (registration + run)", head]
    for spec in specs:
        o, h, d = (_find(rows, spec, n) for n in ("ours", "handrolled", "dask"))
        orig = _find(rows, spec, "original")
        ratio = o["total_us_per_task"] / h["total_us_per_task"] if o and h else None
        cp = _find(rows, spec, "ours-cp")  # order="critical-path", no history
        cp_ratio = cp["run_us_per_task"] / o["run_us_per_task"] if cp and o else None
        lines.append(
            f"{spec:<18}{(o or h or {}).get('tasks', 0):>7}"
            f"{_num(o and o['run_us_per_task']):>10}{_num(o and o['total_us_per_task']):>9}"
            f"{_num(h and h['run_us_per_task']):>10}{_num(h and h['total_us_per_task']):>9}"
            f"{_num(d and d['total_us_per_task']):>9}"
            f"{_num(orig and orig['run_us_per_task'], '{:.0f}', True):>11}"
            f"{_num(ratio, '{:.2f}'):>11}{_num(cp_ratio, '{:.2f}'):>17}"
        )
    measured = sorted({r["measured_at"] for r in rows if r.get("estimate")})
    if measured:
        lines.append("* original: ESTIMATE, its run time per task measured at the capped size "
                     f"({', '.join(measured)}) and scaled linearly to the full size")
    return "\n".join(lines)


def sleep_table(rows: list[dict[str, Any]], sleep_ms: float) -> str:
    specs = list(dict.fromkeys(r["spec"] for r in rows))
    head = (f"{'graph':<18}{'bound s':>9}{'ours s':>9}{'ours':>7}{'hand':>7}{'dask':>7}"
            f"{'original':>10}{'ours/hand':>11}{'ours/dask':>11}")
    lines = [f"SLEEP {sleep_ms:g} ms bodies: efficiency = lower bound / median makespan",
             head]
    for spec in specs:
        o, h, d, orig = (_find(rows, spec, n) for n in ("ours", "handrolled", "dask",
                                                         "original"))
        eff = {k: r and r["efficiency"] for k, r in (("o", o), ("h", h), ("d", d))}
        lines.append(
            f"{spec:<18}{_num((o or h or {}).get('bound_s'), '{:.3f}'):>9}"
            f"{_num(o and o['median_run_s'], '{:.3f}'):>9}{_num(eff['o'], '{:.3f}'):>7}"
            f"{_num(eff['h'], '{:.3f}'):>7}{_num(eff['d'], '{:.3f}'):>7}"
            f"{_num(orig and orig['efficiency'], '{:.3f}', True):>10}"
            f"{_num(eff['o'] / eff['h'] if eff['o'] and eff['h'] else None, '{:.3f}'):>11}"
            f"{_num(eff['o'] / eff['d'] if eff['o'] and eff['d'] else None, '{:.3f}'):>11}"
        )
    capped = [f"{r['spec']} at {r['measured_at']}" for r in rows if r["runner"] == "original"]
    if capped:
        lines.append("* original: measured at capped sizes only (" + ", ".join(capped) + ")")
    return "\n".join(lines)


def scale_table(scale: dict[str, Any]) -> str:
    small, large = scale["small"], scale["large"]
    reg, run = scale["register_us_per_task"], scale["run_us_per_task"]
    kind = scale["registration_graph"]
    return "\n".join([
        f"SCALE: µs per task at {small:,} and {large:,} tasks, median",
        f"  registration+validation ({kind}) ours:       {reg[f'ours:{small}']:.2f} -> "
        f"{reg[f'ours:{large}']:.2f}",
        f"  registration+validation ({kind}) hand-rolled: {reg[f'handrolled:{small}']:.2f} -> "
        f"{reg[f'handrolled:{large}']:.2f}",
        f"  run (independent) ours:                        {run[str(small)]:.2f} -> "
        f"{run[str(large)]:.2f}",
        f"  peak memory at {large:,} no-op tasks (tracemalloc, register+start): "
        f"{scale['peak_bytes_per_task']:.0f} bytes per task",
    ])


def targets(noop: list[dict[str, Any]], sleep: list[dict[str, Any]],
            scale: Optional[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every target of the brief that this run measured, with its figure and verdict."""
    out: list[dict[str, Any]] = []

    def add(name: str, value: float, limit: float, upper: bool = True, stretch: float = 0.0):
        met = value <= limit if upper else value >= limit
        item = {"target": name, "value": round(value, 4), "op": "<=" if upper else ">=",
                "limit": limit, "met": met}
        if stretch:
            item["stretch"], item["stretch_met"] = stretch, value <= stretch
        out.append(item)

    for r in noop:
        if r["runner"] != "ours" or r.get("measured_at"):
            continue
        h = _find(noop, r["spec"], "handrolled")
        if h is None:
            continue
        if r["kind"] in TARGET_KINDS and 2000 <= r["tasks"] <= 5002:
            add(f"no-op {r['spec']}: ours/hand-rolled per task (end to end)",
                r["total_us_per_task"] / h["total_us_per_task"], 1.0, stretch=0.5)
        if r["spec"] == "chain:1000":
            add("chain:1000: ours/hand-rolled per-level latency (end to end)",
                r["total_us_per_task"] / h["total_us_per_task"], 0.5)
    for r in sleep:
        if r["runner"] != "ours":
            continue
        h, d = _find(sleep, r["spec"], "handrolled"), _find(sleep, r["spec"], "dask")
        if h:
            add(f"sleep {r['spec']}: efficiency ours/hand-rolled",
                r["efficiency"] / h["efficiency"], 0.97, upper=False)
        if d and r["kind"] == "layered":
            add(f"sleep {r['spec']}: efficiency ours/dask", r["efficiency"] / d["efficiency"],
                1.0, upper=False)
    if scale:
        small, large = scale["small"], scale["large"]
        reg, run = scale["register_us_per_task"], scale["run_us_per_task"]
        add(f"registration per task {large}/{small} (ours)",
            reg[f"ours:{large}"] / reg[f"ours:{small}"], 1.5)
        add(f"registration per task at {large}: ours/hand-rolled",
            reg[f"ours:{large}"] / reg[f"handrolled:{large}"], 3.0)
        add(f"run per task independent {large}/{small} (ours)",
            run[str(large)] / run[str(small)], 1.5)
        add(f"peak bytes per no-op task at {large}", scale["peak_bytes_per_task"], 2048)
    return out


def targets_table(items: list[dict[str, Any]]) -> str:
    lines = ["TARGETS"]
    for t in items:
        verdict = "met" if t["met"] else "MISSED"
        stretch = ""
        if "stretch" in t:
            stretch = f"  (stretch <= {t['stretch']}: {'met' if t['stretch_met'] else 'no'})"
        lines.append(f"  {verdict:<7}{t['target']}: {t['value']:.3f} {t['op']} {t['limit']}"
                     f"{stretch}")
    return "\n".join(lines)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


def chart(path: Path, noop: list[dict[str, Any]], workers: int) -> None:
    """Overhead per task against N, one panel per graph kind, one line per runner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    kinds = list(dict.fromkeys(r["kind"] for r in noop))
    fig, axes = plt.subplots(1, len(kinds), figsize=(4 * len(kinds), 4), squeeze=False)
    styles = {"ours": "o-", "ours-cp": "o:", "handrolled": "s-", "dask": "^-",
              "original": "--"}
    for ax, kind in zip(axes[0], kinds):
        for runner in RUNNER_ORDER:
            pts = sorted((r["tasks"], r["total_us_per_task"] if r["total_us_per_task"] else
                          r["run_us_per_task"]) for r in noop if r["kind"] == kind
                         and r["runner"] == runner and (r.get("estimate") or
                                                         not r.get("measured_at")))
            if pts:
                label = {"original": "original (estimate)", "handrolled": "hand-rolled"}.get(
                    runner, runner)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], styles[runner], label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        sizes = sorted({r["tasks"] for r in noop if r["kind"] == kind and not r.get("estimate")
                        and r["runner"] != "original"})
        ax.set_xticks(sizes, [f"{x:,}" for x in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{kind} (no-op, {workers} workers)")
        ax.set_xlabel("tasks")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("µs per task, end to end (chain: per level)")
    axes[0][0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
