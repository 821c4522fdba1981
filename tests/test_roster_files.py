"""Rosters as staff have them: a CSV (UTF-8, UTF-8 with its mark, GBK) read like a workbook, or refused in
words for staff; the headers staff write (手机, 邮政编码, E-mail, 法人代表) fill the fields they mean."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from pipeline.common.errors import UserError
from pipeline.generating.packet import applicants, read_roster

HEADER = ["企业名称", "类别", "联系电话/手机", "邮政编码", "E-mail", "法人代表"]
ROW = ["北方电器有限公司", "产品类", "13900000001", "150001", "zs@example.cn", "张三"]
#: What each column must fill in the 申请表 (field id → value), read independently of the synonym table.
EXPECTED = {"phone": "13900000001", "postcode": "150001", "email": "zs@example.cn", "legal_representative": "张三"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_a_csv_roster_is_read_in_any_of_its_encodings(tmp_path, encoding):
    path = tmp_path / "名单.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(ROW) + "\n", encoding=encoding)
    people, problems = applicants(read_roster(path))
    assert problems == [] and [p.name for p in people] == ["北方电器有限公司"]
    application = people[0].values["application"]
    assert {k: application.get(k) for k in EXPECTED} == EXPECTED


def test_staff_headers_fill_their_fields_in_a_workbook_too(tmp_path):
    book = Workbook()
    book.active.append(["企业名称", "类别", "手机", "邮政编码", "E-mail", "法人代表"])
    book.active.append(ROW)
    book.save(tmp_path / "名单.xlsx")
    people, problems = applicants(read_roster(tmp_path / "名单.xlsx"))
    assert not any("不对应" in p for p in problems), problems  # no column left unused
    application = people[0].values["application"]
    assert {k: application.get(k) for k in EXPECTED} == EXPECTED
    assert people[0].values["contract"].get("phone") == "13900000001"


def test_a_file_that_is_no_roster_is_refused_in_words_for_staff(tmp_path):
    bad = tmp_path / "名单.csv"
    bad.write_bytes(b"\xff\xfe\x00\xd8\x81\x30\xff\x00garbage")
    with pytest.raises(UserError) as refused:
        read_roster(bad)
    message = str(refused.value)
    assert "名单文件" in message and ".xlsx" in message and "重新发送" not in message  # not the applicants' words
    assert not any(w in message for w in ("unknown", "text", "UTF8"))
    word = tmp_path / "名单.docx"
    word.write_bytes((tmp_path / "名单.csv").read_bytes()[:0] + b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(UserError) as refused:
        read_roster(word)
    assert "重新发送" not in str(refused.value) and "另存为 .xlsx" in str(refused.value)
