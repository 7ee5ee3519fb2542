"""Progress over time: defensive patterns and repair signals per month, and the trend.

Change in trust is slow and uneven, so a single month says little; what matters is
whether defensive patterns become rarer *per entry* (someone who writes more is not
doing worse) while repair signals (trust experiments, self-trust) become more common.
Counts come from the entry labels (model labels with the person's corrections
applied) and every count lists the entries it counts, so the person can check it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np

from ingest.experiments_store import TrustExperiment
from ingest.labels_store import EntryLabels
from service.insight.schemas import (
    Change,
    Direction,
    LabelCount,
    MonthProgress,
    ProgressReport,
    Third,
    Thirds,
    Trend,
)
from service.taxonomy import load_taxonomy

# A change of this many labels per entry between the first and the last months is
# treated as real rather than noise; below it the trend reads "steady".
MIN_CHANGE = 0.15
CHANGE_EPSILON = 0.05  # per entry: a smaller difference between the thirds reads "same"
TREND_WINDOW = 3  # months at each end compared for the trend


def _month(d: dt.date | dt.datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def build_progress(
    labels: dict[str, EntryLabels], experiments: list[TrustExperiment]
) -> ProgressReport:
    tax = load_taxonomy()
    pattern_names = [n for n, lab in tax.items() if lab.group == "patterns"]
    repair_names = [n for n, lab in tax.items() if lab.group == "repair"]

    by_month: dict[str, list[EntryLabels]] = defaultdict(list)
    for el in labels.values():
        by_month[_month(el.date)].append(el)
    planned: dict[str, int] = defaultdict(int)
    recorded: dict[str, int] = defaultdict(int)
    for x in experiments:
        planned[_month(x.created_at)] += 1
        if x.recorded_at is not None:
            recorded[_month(x.recorded_at)] += 1

    months: list[MonthProgress] = []
    for m in sorted(set(by_month) | set(planned) | set(recorded)):
        els = sorted(by_month.get(m, []), key=lambda e: (e.date, e.entry_id))

        def counts(names: list[str], els: list[EntryLabels] = els) -> dict[str, LabelCount]:
            out = {}
            for n in names:
                ids = [e.entry_id for e in els if n in e.labels]
                out[n] = LabelCount(count=len(ids), entries=ids)
            return out

        pats, reps = counts(pattern_names), counts(repair_names)
        n = len(els)
        months.append(
            MonthProgress(
                month=m,
                entries=n,
                patterns=pats,
                repair=reps,
                defensive_per_entry=round(sum(c.count for c in pats.values()) / n, 3) if n else 0,
                repair_per_entry=round(sum(c.count for c in reps.values()) / n, 3) if n else 0,
                experiments_planned=planned.get(m, 0),
                experiments_recorded=recorded.get(m, 0),
            )
        )

    totals = {n: sum(m.patterns[n].count for m in months) for n in pattern_names}
    totals |= {n: sum(m.repair[n].count for m in months) for n in repair_names}
    done = [x for x in experiments if x.recorded_at is not None]
    split = build_thirds(list(labels.values()))
    return ProgressReport(
        months=months,
        totals=totals,
        thirds=split,
        trend=_trend([m for m in months if m.entries], split),
        experiments={
            "planned": len(experiments),
            "recorded": len(done),
            "as_hoped": sum(x.outcome == "as_hoped" for x in done),
            "mixed": sum(x.outcome == "mixed" for x in done),
            "not_as_hoped": sum(x.outcome == "not_as_hoped" for x in done),
        },
    )


def _series(values: list[float]) -> dict[str, float]:
    w = min(TREND_WINDOW, max(1, len(values) // 2))
    slope = float(np.polyfit(np.arange(len(values)), values, 1)[0]) if len(values) > 1 else 0.0
    return {
        "first": round(float(np.mean(values[:w])), 3),
        "last": round(float(np.mean(values[-w:])), 3),
        "slope": round(slope, 4),
    }


def _per_entry(els: list[EntryLabels], group: str) -> float:
    tax = load_taxonomy()
    n = sum(1 for e in els for name in e.labels if tax.get(name) and tax[name].group == group)
    return round(n / len(els), 3) if els else 0.0


def _change(before: float, after: float) -> Change:
    if after - before > CHANGE_EPSILON:
        return "up"
    if before - after > CHANGE_EPSILON:
        return "down"
    return "same"


def build_thirds(labels: list[EntryLabels]) -> Thirds | None:
    """The earliest third of the entries (by count, in date order) against the latest
    third: how many defensive patterns and repair signals each shows per entry."""
    els = sorted(labels, key=lambda e: (e.date, e.entry_id))
    k = len(els) // 3
    if k == 0:
        return None

    def third(part: list[EntryLabels]) -> Third:
        return Third(
            first_date=part[0].date.isoformat(),
            last_date=part[-1].date.isoformat(),
            entries=len(part),
            defensive_per_entry=_per_entry(part, "patterns"),
            repair_per_entry=_per_entry(part, "repair"),
            entry_ids=[e.entry_id for e in part],
        )

    early, late = third(els[:k]), third(els[-k:])
    return Thirds(
        earliest=early,
        latest=late,
        defensive=_change(early.defensive_per_entry, late.defensive_per_entry),
        repair=_change(early.repair_per_entry, late.repair_per_entry),
    )


def _trend(months: list[MonthProgress], split: Thirds | None = None) -> Trend:
    if split is not None:
        return _trend_of_thirds(split, months)
    if len(months) < 2:
        return Trend(
            direction="not enough data",
            summary="There is not enough writing across months to see a trend yet.",
            defensive_per_entry={},
            repair_per_entry={},
        )
    d = _series([m.defensive_per_entry for m in months])
    r = _series([m.repair_per_entry for m in months])
    dd, dr = d["last"] - d["first"], r["last"] - r["first"]
    score = dr - dd  # fewer defensive patterns and more repair both count as improving
    if score >= MIN_CHANGE:
        direction: Direction = "improving"
    elif score <= -MIN_CHANGE:
        direction = "worsening"
    else:
        direction = "steady"
    summary = (
        f"From {months[0].month} to {months[-1].month}: defensive patterns went from "
        f"{d['first']:.2f} to {d['last']:.2f} per entry, and repair signals from "
        f"{r['first']:.2f} to {r['last']:.2f} per entry (first and last "
        f"{min(TREND_WINDOW, max(1, len(months) // 2))} months with entries)."
    )
    return Trend(direction=direction, summary=summary, defensive_per_entry=d, repair_per_entry=r)


def _trend_of_thirds(t: Thirds, months: list[MonthProgress]) -> Trend:
    e, la = t.earliest, t.latest
    score = (la.repair_per_entry - e.repair_per_entry) - (
        la.defensive_per_entry - e.defensive_per_entry
    )
    direction: Direction = (
        "improving" if score >= MIN_CHANGE else "worsening" if score <= -MIN_CHANGE else "steady"
    )
    summary = (
        f"Your earliest entries ({e.first_date} to {e.last_date}) show "
        f"{e.defensive_per_entry:.2f} defensive patterns and {e.repair_per_entry:.2f} repair "
        f"signals per entry; your latest ({la.first_date} to {la.last_date}) show "
        f"{la.defensive_per_entry:.2f} and {la.repair_per_entry:.2f}."
    )
    d = _series([m.defensive_per_entry for m in months]) if months else {}
    r = _series([m.repair_per_entry for m in months]) if months else {}
    d |= {"earliest_third": e.defensive_per_entry, "latest_third": la.defensive_per_entry}
    r |= {"earliest_third": e.repair_per_entry, "latest_third": la.repair_per_entry}
    return Trend(direction=direction, summary=summary, defensive_per_entry=d, repair_per_entry=r)


def plot_progress(report: ProgressReport, path: Path) -> Path:
    """Stacked monthly bars of defensive patterns, with repair signals as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = [m for m in report.months if m.entries]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(months) + 2), 4.5))
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    names = list(months[0].patterns) if months else []
    for name in names:
        vals = np.array([m.patterns[name].count for m in months], dtype=float)
        if vals.any():
            ax.bar(x, vals, bottom=bottom, label=name.replace("_", " "))
            bottom += vals
    repair = [sum(c.count for c in m.repair.values()) for m in months]
    ax.plot(x, repair, color="black", marker="o", linewidth=2, label="repair signals")
    ax.set_xticks(x, [m.month for m in months], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("entries")
    ax.set_title(f"Trust patterns per month — trend: {report.trend.direction}")
    ax.legend(fontsize=7, ncols=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
