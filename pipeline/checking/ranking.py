"""A fair ranking of a review round: pure functions over the experts' totals.

Experts score on different scales (one gives 90s, another 70s), so an applicant's raw mean depends on
who happened to score it. Each expert's totals are turned into z-scores over everything that expert
scored in the round and rescaled to the round's overall mean and spread; an applicant's normalised score
is the mean of its rescaled scores. The method, the outlier gap and the tie rule are stated by the sheet
(`definitions.review_rounds.Sheet.method_text`), and nothing here reads a database or a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean, pstdev


@dataclass
class Ranked:
    """One applicant of a round, ranked: its scores, raw mean, spread (max − min), standard deviation,
    normalised score, the experts whose score is an outlier or missing, its rank and whether it is kept."""

    applicant_id: int
    scores: dict = field(default_factory=dict)  # expert → total
    normalised_by: dict = field(default_factory=dict)  # expert → rescaled z-score
    raw_mean: float | None = None
    spread: float | None = None
    sd: float | None = None
    normalised: float | None = None
    outliers: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    rank: int | None = None
    kept: bool = False
    tied_with: list = field(default_factory=list)  # applicants with the same normalised score (two decimals)


def rescaled(scores: list[tuple[int, str, float]]) -> dict[tuple[int, str], float]:
    """Given (applicant, expert, total) for every submitted score of a round, return (applicant, expert) → the
    score as a z-score within that expert's scores, rescaled to the round's mean and population sd.

    An expert with one score, or with all scores equal, has z = 0 for each (nothing says how they scale)."""
    if not scores:
        return {}
    everything = [total for _, _, total in scores]
    mean_all, sd_all = fmean(everything), pstdev(everything)
    by_expert: dict[str, list[float]] = {}
    for _, expert, total in scores:
        by_expert.setdefault(expert, []).append(total)
    moments = {e: (fmean(v), pstdev(v)) for e, v in by_expert.items()}
    out = {}
    for applicant, expert, total in scores:
        mean, sd = moments[expert]
        z = (total - mean) / sd if sd > 0 else 0.0
        out[(applicant, expert)] = mean_all + z * sd_all
    return out


def outliers_of(scores: dict[str, float], gap: float) -> list[str]:
    """Given expert → total for one applicant and the outlier gap, return the experts whose total differs from the
    mean of the other experts' totals by more than the gap (none with fewer than three scores: two scores that
    differ accuse neither)."""
    if len(scores) < 3:
        return []
    found = []
    for expert, total in scores.items():
        others = [v for e, v in scores.items() if e != expert]
        if abs(total - fmean(others)) > gap:
            found.append(expert)
    return sorted(found)


def rank(scores: list[tuple[int, str, float]], assigned: dict[int, list[str]], gap: float,
         keep: int | None) -> list[Ranked]:
    """Given every submitted (applicant, expert, total) of a round, applicant → its assigned experts, the outlier
    gap and how many the round keeps (None: all with a score), return the applicants ranked.

    Order (TIE_RULE): normalised score, then raw mean, then the lowest score, all descending; then the
    applicant id ascending (received first). Applicants without any score come last, unranked and not kept."""
    normal = rescaled(scores)
    rows: dict[int, Ranked] = {aid: Ranked(applicant_id=aid) for aid in assigned}
    for applicant, expert, total in scores:
        row = rows.setdefault(applicant, Ranked(applicant_id=applicant))
        row.scores[expert] = total
        row.normalised_by[expert] = normal[(applicant, expert)]
    for row in rows.values():
        row.missing = sorted(e for e in assigned.get(row.applicant_id, ()) if e not in row.scores)
        if row.scores:
            values = list(row.scores.values())
            row.raw_mean, row.sd = fmean(values), pstdev(values)
            row.spread = max(values) - min(values)
            row.normalised = fmean(row.normalised_by.values())
            row.outliers = outliers_of(row.scores, gap)

    def order(row: Ranked):
        return (-round(row.normalised, 6), -round(row.raw_mean, 6), -min(row.scores.values()), row.applicant_id)

    scored = sorted((r for r in rows.values() if r.scores), key=order)
    for n, row in enumerate(scored, 1):
        row.rank = n
        row.kept = keep is None or n <= keep
        row.tied_with = [o.applicant_id for o in scored
                         if o is not row and round(o.normalised, 2) == round(row.normalised, 2)]
    return scored + sorted((r for r in rows.values() if not r.scores), key=lambda r: r.applicant_id)
