"""The ranking's pure functions on small cases worked out by hand."""

from __future__ import annotations

import pytest

from pipeline.checking.ranking import outliers_of, rank, rescaled


def test_rescaled_scores_by_hand():
    # expert A gives 80 and 90 (mean 85, sd 5); expert B gives 60 and 70 (mean 65, sd 5)
    # all four: mean 75, population sd sqrt(((5)^2 + (15)^2 + (15)^2 + (5)^2) / 4) = sqrt(125)
    scores = [(1, "A", 80), (2, "A", 90), (1, "B", 60), (2, "B", 70)]
    out = rescaled(scores)
    sd = 125 ** 0.5
    assert out[(1, "A")] == pytest.approx(75 - sd) and out[(2, "A")] == pytest.approx(75 + sd)
    assert out[(1, "B")] == pytest.approx(75 - sd) and out[(2, "B")] == pytest.approx(75 + sd)


def test_a_harsh_expert_does_not_sink_whom_they_scored():
    # 1 and 2 are scored by the lenient A, 3 and 4 by the harsh B: raw means put 1 and 2 first, but within each
    # expert 2 beat 1 and 4 beat 3 by the same margin, so normalised 2 and 4 tie, then 1 and 3 tie.
    scores = [(1, "A", 85), (2, "A", 95), (3, "B", 55), (4, "B", 65)]
    ranked = rank(scores, {1: ["A"], 2: ["A"], 3: ["B"], 4: ["B"]}, gap=15, keep=None)
    norm = {r.applicant_id: r.normalised for r in ranked}
    assert norm[2] == pytest.approx(norm[4]) and norm[1] == pytest.approx(norm[3])
    # the tie rule: equal normalised scores → the higher raw mean first
    assert [r.applicant_id for r in ranked] == [2, 4, 1, 3]
    assert ranked[0].tied_with == [4]


def test_one_score_or_equal_scores_give_z_zero():
    out = rescaled([(1, "A", 70), (2, "B", 80), (3, "B", 80)])
    assert out[(1, "A")] == pytest.approx(230 / 3) and out[(2, "B")] == pytest.approx(230 / 3)


def test_outliers_need_three_scores_and_a_gap():
    assert outliers_of({"A": 90, "B": 60}, 15) == []
    assert outliers_of({"A": 90, "B": 70, "C": 71}, 15) == ["A"]  # 90 − 70.5 = 19.5 > 15; B: |70 − 80.5| ≤ 15
    assert outliers_of({"A": 80, "B": 70, "C": 75}, 15) == []


def test_missing_scores_are_flagged_and_the_unscored_come_last_unkept():
    scores = [(1, "A", 80), (1, "B", 82), (2, "A", 70)]
    ranked = rank(scores, {1: ["A", "B"], 2: ["A", "B"], 3: ["A"]}, gap=15, keep=1)
    by_id = {r.applicant_id: r for r in ranked}
    assert by_id[2].missing == ["B"] and by_id[3].missing == ["A"] and by_id[1].missing == []
    assert [r.applicant_id for r in ranked] == [1, 2, 3]
    assert [r.kept for r in ranked] == [True, False, False] and by_id[3].rank is None


def test_the_last_tie_break_is_the_applicant_number():
    scores = [(7, "A", 80), (3, "A", 80)]
    assert [r.applicant_id for r in rank(scores, {}, gap=15, keep=None)] == [3, 7]
