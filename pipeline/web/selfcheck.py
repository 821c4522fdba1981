"""申报自检: an applicant checks one packet before sending it; nothing is kept.

The packet goes through exactly what `manyi parse` does to one entry (the inbox gate, the
LibreOffice batch for old formats, the readers and the rules), in a throw-away folder that is
removed when the check ends. Only the issues are returned, in the campaign's own words.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pipeline.definitions.vocabulary import Severity, member_of
from pipeline.parse import campaign_forms, convert_old_formats, open_entry, parse_one
from pipeline.reading.extract import prepare
from pipeline.receiving import inbox

#: An issue of a severity the vocabulary does not know, as the applicant reads it.
OTHER_LABEL = "提示"


def check_packet(folder: Path, campaign) -> dict:
    """Given a folder holding one applicant's uploaded files, return what the check found.

    Returns {company, category, forms_found, issues: [{severity, label, message, article}], errors, labels}:
    each issue's label and `labels` (severity → label, for the counts) in the applicant's words
    (Severity.applicant_label); the folder is left for the caller to remove.
    """
    children = [p for p in sorted(folder.iterdir()) if not inbox.is_hidden(p.name)]
    target = children[0] if len(children) == 1 else folder
    entry = inbox.entries([target])[0] if target is not folder else inbox.Entry(
        inbox.submission_id(folder.name), folder.name, folder)
    work = Path(tempfile.mkdtemp(prefix="manyi-selfcheck-work-"))
    try:
        prepare(campaign_forms(campaign))
        opened = convert_old_formats([open_entry(entry, work / "e")], work)[0]
        records = parse_one(*opened, campaign, work)  # one, or one per company when several packets came
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = records[0]
    issues = [{"severity": i.get("severity"),
               "label": getattr(member_of(Severity, i.get("severity")), "applicant_label", OTHER_LABEL),
               "message": i.get("message", ""), "article": i.get("article") or ""} for i in record["issues"]]
    if len(records) > 1:  # the check is for one applicant's packet: say so rather than mix several
        others = "、".join(r.get("company_name") or r.get("source") or "" for r in records[1:])
        issues.append({"severity": Severity.WARNING, "label": Severity.WARNING.applicant_label, "article": "",
                       "message": f"上传的材料里有 {len(records)} 家单位的申报，这里只检查了第一家；"
                                  f"其余（{others}）请分别上传自检。"})
    issues.sort(key=lambda i: i["severity"] != Severity.ERROR)
    return {"company": record.get("company_name") or "", "category": record.get("category") or "",
            "forms_found": record.get("forms_found") or [], "issues": issues,
            "errors": sum(i["severity"] == Severity.ERROR for i in issues),
            "labels": {s.value: s.applicant_label for s in Severity}}
