"""Earlier years count: the conditions that depend on an applicant's history, answered by earlier registers.

A fact marked `history:` in `_facts.yaml` is never taken from the applicant's word alone:

- `consecutive_titles` (连续获得称号年数, 辽宁 第六条2⑺、第七条2⑷、第九条2⑷): the number of years, counted back
  from the year before the campaign's, in each of which the applicant held a title of the same program and
  category (a certificate in force on some day of that year: from its issue to the end of its term, or to its
  revocation);
- `revoked_for_fraud` (五年内因虚假材料被撤销称号, 广州 第二十六条): whether a title of the program held by the
  applicant was revoked for false material (the reason names it) within the program's `ban_years` before the
  campaign's deadline.

The registers (earlier campaigns' workspaces, register files or `register list` workbooks) are read by the
action layer into `Held` rows; this module only counts. Each answer names the registers it came from, which
`screen` shows in its 来源 column. Without registers an applicant's claim that such a condition is met stays
待核实 (`screen`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipeline.common.text import fold

#: Words a revocation's reason uses when the title was obtained with false material (广州 第二十六条).
FRAUD_WORDS = ("虚假", "弄虚作假", "不正当", "剽窃", "侵占", "骗取")
#: How the 来源 column names a register.
SOURCE_PREFIX = "登记簿"


@dataclass(frozen=True)
class Held:
    """A title an earlier register holds: holder, program, category, its term and revocation, and the register."""

    company: str
    program: str
    category: str
    issued_on: date
    valid_to: date | None
    revoked_on: date | None
    revoke_reason: str
    register: str  # the register's name as staff know it (a workspace folder, a file)

    def held_in(self, year: int) -> bool:
        """Given a year, return whether the title was in force on some day of it."""
        end = min(filter(None, (self.valid_to, self.revoked_on)), default=None)
        return self.issued_on.year <= year and (end is None or end.year >= year)


def source_of(registers: list[str]) -> str:
    """Given the registers that answered, return the 来源 text: 登记簿 liaoning-2020、登记簿 2019.xlsx."""
    return "、".join(f"{SOURCE_PREFIX} {name}" for name in dict.fromkeys(registers)) or SOURCE_PREFIX


def consecutive_titles(held: list[Held], program: str, category: str, name: str, year: int) -> tuple[int, list[str]]:
    """Given the titles of earlier registers, a program, category and applicant name and the campaign's year,
    return the years running, up to the year before, in which the applicant held the title, and the registers."""
    mine = [h for h in held if h.program == program and h.category == category and fold(h.company) == fold(name)]
    count, y = 0, year - 1
    while any(h.held_in(y) for h in mine):
        count, y = count + 1, y - 1
    return count, [h.register for h in mine]


def revoked_for_fraud(held: list[Held], program: str, name: str, deadline: date, ban_years: int) -> tuple[bool, list[str]]:
    """Given the titles of earlier registers, a program, an applicant's name, the campaign's deadline and the ban's
    years, return whether a title of the applicant was revoked for false material within the ban, and the registers."""
    since = date(deadline.year - ban_years, deadline.month, min(deadline.day, 28))
    mine = [h for h in held if h.program == program and fold(h.company) == fold(name)]
    banned = [h for h in mine if h.revoked_on and since <= h.revoked_on <= deadline
              and any(w in (h.revoke_reason or "") for w in FRAUD_WORDS)]
    return bool(banned), [h.register for h in (banned or mine)]


def ban_years(discipline: list[dict]) -> int | None:
    """Given a program's `discipline:` entries, return the longest ban on applying again (years), or None."""
    years = [int(d["ban_years"]) for d in discipline or [] if isinstance(d, dict) and d.get("ban_years")]
    return max(years) if years else None


def history_facts(held: list[Held], kinds: dict[str, str], *, program: str, discipline: list[dict], category: str,
                  name: str, year: int, deadline: date, registers: list[str]) -> tuple[dict, dict]:
    """Given the earlier titles, the history facts (fact id → kind), the program, its discipline, the applicant's
    category and name, the campaign's year and deadline and the registers read, return (fact id → value,
    fact id → 来源) for the facts the registers answer."""
    values, sources = {}, {}
    for fid, kind in kinds.items():
        if kind == "consecutive_titles":
            values[fid], used = consecutive_titles(held, program, category, name, year)
        elif kind == "revoked_for_fraud" and ban_years(discipline):
            values[fid], used = revoked_for_fraud(held, program, name, deadline, ban_years(discipline))
        else:
            continue
        sources[fid] = source_of(used or registers)
    return values, sources
