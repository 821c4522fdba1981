"""Every workbook manyi writes keeps text as text: no cell is a formula, a company named "=…" included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign

HLJ = load_campaign(DEFAULT_CAMPAIGN)
#: Names that a spreadsheet would run as formulas if written as typed.
HOSTILE = ('=HYPERLINK("http://x","点我")', "=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)")


def formulas(path: Path) -> list[str]:
    """Given a workbook, return where it holds a formula (sheet!cell), read back with openpyxl."""
    book = load_workbook(path)  # not data_only: a formula would come back as one
    found = [f"{sheet.title}!{cell.coordinate}" for sheet in book.worksheets for row in sheet.iter_rows()
             for cell in row if cell.data_type == "f"]
    book.close()
    return found


def texts(path: Path) -> set:
    book = load_workbook(path)
    values = {cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    book.close()
    return values


def hostile_records() -> list[dict]:
    return [{"submission_id": f"h{n}", "source": f"{name}.zip", "category": "product", "company_name": name,
             "status": "incomplete",
             "forms": {"cover": {"promoting_unit": name}, "application": {"company_name": name, "contact_person": name,
                                                                         "phone": name, "product_name": name}},
             "issues": [{"severity": "error", "code": "missing_field", "form": "application", "field": "product_name",
                         "message": name}]} for n, name in enumerate(HOSTILE)]


def test_summary_and_notices_lists_keep_formula_like_names_as_text(tmp_path):
    from pipeline.issuing.notices import make_notices
    from pipeline.issuing.workbook import write_summary

    records = hostile_records()
    written = [write_summary(records, tmp_path / "summary.xlsx", HLJ),
               make_notices(records, tmp_path / "notices", HLJ, today=date(2017, 6, 1)).mail_list]
    for path in written:
        assert formulas(path) == [], path.name
        assert set(HOSTILE) <= texts(path), path.name  # each name back exactly as typed


def test_the_register_list_and_the_screen_keep_formula_like_names_as_text(tmp_path):
    from pipeline.checking.screen import screen_records, write_workbook
    from pipeline.issuing.register import Entry, save_list

    screen = write_workbook(screen_records(HLJ, hostile_records()), tmp_path / "筛选结果.xlsx")
    assert formulas(screen) == [] and set(HOSTILE) <= texts(screen)
    fields = Entry.__dataclass_fields__
    entries = []
    for n, name in enumerate(HOSTILE):
        values = {k: None for k in fields}
        values.update(number=f"HLJ2017-CP-{n:04d}", company=name, category="product", project=name,
                      program="heilongjiang", campaign="heilongjiang-2017", title="2017年度称号", issuer=name,
                      valid_from=date(2017, 9, 1), issued_on=date(2017, 9, 1))
        entries.append(Entry(**{k: v for k, v in values.items() if k in fields}))
    listing = save_list(entries, tmp_path / "登记簿.xlsx", today=date(2017, 10, 1))
    assert formulas(listing) == [] and set(HOSTILE) <= texts(listing)
