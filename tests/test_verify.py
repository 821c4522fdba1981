"""Certificates anyone can verify: check codes, the QR code, the public /verify page, signed PDFs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import zipfile
from datetime import date
from io import BytesIO
from pathlib import Path

import pypdfium2
import pytest
import yaml
import zxingcpp
from click.testing import CliRunner
from docx import Document
from PIL import Image

from pipeline.definitions.campaign import zh_date
from pipeline.cli import cli
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.issuing import register, signing
from pipeline.issuing.certificates import make_certificates
from pipeline.web.app import create_app
from test_certificates import WINNERS, write_winners
from pipeline.definitions.programs import resolve_campaign

ISSUED = date(2017, 9, 1)
VERIFY_URL = "https://verify.example.org.cn/verify"
LAN = "192.0.2.10"


def campaign_with_verify_url(folder: Path) -> Path:
    """The bundled 黑龙江 2017 campaign with a verify page address."""
    data = yaml.safe_load(Path(DEFAULT_CAMPAIGN).read_text(encoding="utf-8"))
    data["certificate"]["verify_url"] = VERIFY_URL
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def expected_code(secret: bytes, number: str, issue: int) -> str:
    """The code as the issue defines it, computed here: HMAC-SHA256 of number and issue, base32, 10 letters."""
    letters = base64.b32encode(hmac.new(secret, f"{number}\n{issue}".encode(), hashlib.sha256).digest()).decode()
    return f"{letters[:5]}-{letters[5:10]}"


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Three winners printed with --pdf from a register file whose keys folder holds a CA (one LibreOffice start)."""
    base = tmp_path_factory.mktemp("verify")
    winners = write_winners(base / "winners.xlsx", WINNERS)
    keys = signing.keys_folder_of(base / "register.db")
    result = CliRunner().invoke(cli, ["register", "ca", "init", "--name", "黑龙江省质量协会",
                                      "--register", str(base / "register.db")])
    assert result.exit_code == 0, result.output
    printed = make_certificates(winners, base / "out", load_campaign(campaign_with_verify_url(base)),
                                base / "register.db", pdf=True, today=date.today())
    return base, keys, printed


def test_each_certificate_prints_its_hmac_code_as_text(printed):
    _base, keys, result = printed
    secret = (keys / signing.SECRET_FILE).read_bytes()
    assert len(secret) == 32
    for entry, docx in zip(result.entries, result.files):
        assert entry.check_code == expected_code(secret, entry.number, 1)
        text = "\n".join(p.text for p in Document(str(docx)).paragraphs)
        assert f"校验码：{entry.check_code}" in text


def test_the_qr_code_on_the_printed_pdf_decodes_to_the_verify_link(printed):
    _base, _keys, result = printed
    pdf = pypdfium2.PdfDocument(str(result.pdf))
    try:
        for page, entry in zip(pdf, result.entries):
            found = zxingcpp.read_barcodes(page.render(scale=1.5).to_pil())
            assert [b.text for b in found] == [f"{VERIFY_URL}?n={entry.number}&c={entry.check_code}"]
    finally:
        pdf.close()
    with zipfile.ZipFile(result.files[0]) as docx:  # the .docx holds the same picture
        png = docx.read("word/media/manyi-picture1.png")
    assert [b.text for b in zxingcpp.read_barcodes(Image.open(BytesIO(png)))] == [
        f"{VERIFY_URL}?n={result.entries[0].number}&c={result.entries[0].check_code}"]


def test_no_verify_url_prints_the_code_without_a_qr_code(tmp_path):
    winners = write_winners(tmp_path / "w.xlsx", WINNERS[:1])
    result = make_certificates(winners, tmp_path / "out", load_campaign(DEFAULT_CAMPAIGN), tmp_path / "r.db", today=ISSUED)
    with zipfile.ZipFile(result.files[0]) as docx:
        assert not [n for n in docx.namelist() if n.startswith("word/media/")]
    assert f"校验码：{result.entries[0].check_code}" in "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)


def _cli(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_signed_pdf_verifies_and_a_changed_byte_fails(printed, tmp_path):
    base, _keys, result = printed
    assert len(result.signed) == 3
    good = result.signed[1]
    answer = _cli("register", "verify", "--pdf", good, "--register", base / "register.db")
    assert answer.exit_code == 0, answer.output
    assert "签名有效" in answer.output and "HLJ2017-CP-0001" in answer.output and "状　　态：有效" in answer.output
    data = bytearray(good.read_bytes())
    # one byte of the page's own content (before the signature's incremental update), changed
    at = data.index(b"stream", 200) + 20
    data[at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    answer = _cli("register", "verify", "--pdf", tampered, "--register", base / "register.db")
    assert answer.exit_code == 1
    assert "查验未通过" in answer.output


def test_each_signed_pdf_carries_its_own_page_only(printed):
    import pikepdf

    _base, _keys, result = printed
    for signed in result.signed:
        with pikepdf.open(signed) as pdf:
            images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
            assert len(pdf.pages) == 1 and len(images) == 1  # its QR code, not the whole run's
    assert max(p.stat().st_size for p in result.signed) < result.pdf.stat().st_size


def test_a_long_run_is_converted_in_parts_and_joined_in_order(printed, tmp_path, monkeypatch):
    from pipeline.issuing import certificates

    base, _keys, result = printed
    monkeypatch.setattr(certificates, "PART_FROM", 1)
    contexts = [result.contexts[i] for i in (2, 0, 1)]  # an order of its own, so the join's order shows
    joined = certificates.combined_pdf(contexts, tmp_path / "parts.pdf", load_campaign(campaign_with_verify_url(base)),
                                       parts=2)
    pdf = pypdfium2.PdfDocument(str(joined))
    try:
        numbers = [re.findall(r"[A-Z]{3}\d{4}-[A-Z]{2}-\d{4}", page.get_textpage().get_text_range().replace(" ", ""))
                   for page in pdf]
    finally:
        pdf.close()
    assert numbers == [[c["number"]] for c in contexts]


def test_many_pdfs_are_signed_in_a_pool_and_each_verifies(printed, tmp_path, monkeypatch):
    base, keys, result = printed
    monkeypatch.setattr(signing, "POOL_FROM", 2)
    jobs = [(result.signed[i % 3], tmp_path / f"again-{i}.pdf", result.entries[i % 3].number) for i in range(4)]
    unsigned = []
    for i, (source, _target, number) in enumerate(jobs):  # a fresh unsigned copy of each page
        page = tmp_path / f"page-{i}.pdf"
        pdf = pypdfium2.PdfDocument(str(result.pdf))
        single = pypdfium2.PdfDocument.new()
        single.import_pages(pdf, [i % 3])
        single.save(str(page))
        single.close(), pdf.close()
        unsigned.append((page, _target, number))
    signing.sign_all(unsigned, keys, processes=2)
    for _page, target, number in unsigned:
        check = signing.verify_pdf(target, keys)
        assert check.number == number and check.problems == []


def test_a_pdf_signed_by_another_ca_is_not_trusted(printed, tmp_path):
    base, _keys, result = printed
    other = tmp_path / "other-keys"
    signing.init_ca(other, "别的协会")
    page, copy = tmp_path / "page.pdf", tmp_path / "copy.pdf"
    pdf = pypdfium2.PdfDocument(str(result.pdf))
    single = pypdfium2.PdfDocument.new()
    single.import_pages(pdf, [0])
    single.save(str(page))
    single.close(), pdf.close()
    signing.sign_pdf(page, copy, result.entries[0].number, other)
    answer = _cli("register", "verify", "--pdf", copy, "--register", base / "register.db")
    assert answer.exit_code == 1 and "不是本协会的根证书签发的" in answer.output


def test_a_second_ca_init_is_refused(printed):
    base, _keys, _result = printed
    answer = _cli("register", "ca", "init", "--name", "x", "--register", base / "register.db")
    assert answer.exit_code != 0 and "已有" in answer.output


def test_offline_check_by_number_and_code(printed):
    base, _keys, result = printed
    entry = result.entries[0]
    answer = _cli("register", "verify", entry.number.lower(), "--code", entry.check_code.lower().replace("-", " "),
                  "--register", base / "register.db")
    assert answer.exit_code == 0 and "状态：有效" in answer.output and entry.company in answer.output
    wrong = entry.check_code[:-1] + ("A" if entry.check_code[-1] != "A" else "B")
    answer = _cli("register", "verify", entry.number, "--code", wrong, "--register", base / "register.db")
    assert answer.exit_code == 1 and "查无此证" in answer.output and entry.company not in answer.output


# --- the page, over a workspace's register ---------------------------------------------------------


@pytest.fixture()
def workspace(tmp_path):
    """A workspace whose register holds two certificates with codes, as printing gives them."""
    from pipeline.workspace import Workspace
    from pipeline.workspace.outputs import keys_folder

    root = tmp_path / "ws"
    with Workspace.init(root, resolve_campaign("heilongjiang", None)) as ws:
        with register.connect(ws.engine) as conn:
            made = register.assign(conn, [register.Winner("哈尔滨电机厂有限责任公司", "enterprise"),
                                          register.Winner("黑龙江飞鹤乳业有限公司", "product", "飞鹤奶粉")],
                                   program="heilongjiang", campaign="heilongjiang-2017", prefix="HLJ2017",
                                   codes={"enterprise": "EN", "product": "CP"}, issuer="黑龙江省质量协会",
                                   today=date.today(), titles={"enterprise": "先进单位", "product": "先进单位（产品类）"},
                                   validity_years=2)
            register.with_codes(conn, made, signing.secret(keys_folder(ws)))
    return root


def answer_of(client, number, code) -> tuple[int, str]:
    page = client.get("/verify", query_string={"n": number, "c": code})
    text = re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))
    return page.status_code, re.sub(r"\s+", " ", text)


def code_of(root: Path, number: str) -> str:
    from pipeline.workspace import Workspace

    with Workspace.open(root) as ws, register.connect(ws.reader, write=False) as conn:
        return register.lookup(conn, number).check_code


def test_page_valid_then_revoked_then_renewed_code_and_replaced_old(workspace):
    from pipeline.workspace import Workspace
    from pipeline.workspace.outputs import keys_folder, register_change

    client = create_app(workspace, host=LAN, testing=True).test_client()  # a public address, nobody signed in
    old = code_of(workspace, "HLJ2017-EN-0001")
    status, text = answer_of(client, "HLJ2017-EN-0001", old)
    assert status == 200 and "哈尔滨电机厂有限责任公司" in text and "状态 有效" in text and "先进单位" in text
    assert "黑龙江飞鹤" not in text
    # renewal: a new code once printed; the old one now says it was replaced
    with Workspace.open(workspace) as ws:
        register_change(ws, "HLJ2017-EN-0001", "renew", "张三")
        with register.connect(ws.engine) as conn:
            register.with_codes(conn, [register.lookup(conn, "HLJ2017-EN-0001")], signing.secret(keys_folder(ws)))
    new = code_of(workspace, "HLJ2017-EN-0001")
    secret = (workspace / "keys" / signing.SECRET_FILE).read_bytes()
    assert (old, new) == (expected_code(secret, "HLJ2017-EN-0001", 1), expected_code(secret, "HLJ2017-EN-0001", 2))
    status, text = answer_of(client, "HLJ2017-EN-0001", new)
    assert "状态 有效（已于" in text and "续期）" in text
    status, text = answer_of(client, "HLJ2017-EN-0001", old)
    assert "状态 已被新证书替代" in text and "状态 有效" not in text
    # revocation: the current code now says 已撤销 with the date and reason
    with Workspace.open(workspace) as ws:
        revoked_on = date.today()  # the fixture issues today: not before the issue, not in the future
        register_change(ws, "HLJ2017-EN-0001", "revoke", "张三", "以虚假材料获得称号（第二十三条）", revoked_on)
    status, text = answer_of(client, "HLJ2017-EN-0001", new)
    assert f"已撤销（{zh_date(revoked_on)}撤销，原因：以虚假材料获得称号（第二十三条））" in text


def test_page_a_changed_code_or_number_finds_nothing_and_says_only_that(workspace):
    client = create_app(workspace, host=LAN, testing=True).test_client()
    code = code_of(workspace, "HLJ2017-EN-0001")
    other = code_of(workspace, "HLJ2017-CP-0001")
    changed = code[:-1] + ("A" if code[-1] != "A" else "B")
    for number, given in (("HLJ2017-EN-0001", changed), ("HLJ2017-EN-0002", code), ("HLJ2017-CP-0001", code),
                          ("HLJ2017-EN-0001", other), ("HLJ2017-EN-0001", "")):
        status, text = answer_of(client, number, given)
        assert status == 200 and "查无此证" in text, (number, given)
        assert "哈尔滨" not in text and "飞鹤" not in text and "有效期" not in text


def test_page_is_rate_limited_per_address(workspace, monkeypatch):
    from pipeline.web import verify

    monkeypatch.setattr(verify, "VERIFY_PER_HOUR", 3)
    client = create_app(workspace, host=LAN, testing=True).test_client()
    code = code_of(workspace, "HLJ2017-EN-0001")
    assert [answer_of(client, "HLJ2017-EN-0001", code)[0] for _ in range(4)] == [200, 200, 200, 429]
    other = create_app(workspace, host=LAN, testing=True).test_client()
    assert other.get("/verify", query_string={"n": "x", "c": "y"},
                     environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200


@pytest.mark.parametrize("host", [LAN, "127.0.0.1"])
def test_verify_only_serves_the_verify_page_and_nothing_else(workspace, host):
    app = create_app(workspace, host=host, testing=True, verify_only=True)
    client = app.test_client()
    headers = {"Host": "127.0.0.1"}
    code = code_of(workspace, "HLJ2017-EN-0001")
    page = client.get("/verify", query_string={"n": "HLJ2017-EN-0001", "c": code}, headers=headers)
    assert page.status_code == 200 and "哈尔滨电机厂有限责任公司" in page.get_data(as_text=True)
    assert client.get("/static/style.css", headers=headers).status_code == 200
    for path in ("/", "/login", "/applicants", "/applicants/1", "/awards", "/downloads", "/users", "/audit",
                 "/selfcheck", "/jobs/x.json", "/review"):
        assert client.get(path, headers=headers).status_code == 404, path
    assert client.post("/login", headers=headers).status_code == 404
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints == {"static", "verify.page", "verify.published"}
    assert client.get("/verify/register", headers=headers).status_code == 200


def test_the_published_register_as_a_page_and_a_workbook(workspace, tmp_path):
    from openpyxl import load_workbook

    from pipeline.workspace import Workspace
    from pipeline.workspace.outputs import register_change

    revoked_on = date.today()  # a revocation is a decision already made: never dated after today
    with Workspace.open(workspace) as ws:
        register_change(ws, "HLJ2017-CP-0001", "revoke", "张三", "以虚假材料获得称号（第二十三条）", revoked_on)
    codes = [code_of(workspace, n) for n in ("HLJ2017-EN-0001", "HLJ2017-CP-0001")]
    year = f"{date.today().year}年"
    client = create_app(workspace, host=LAN, testing=True, verify_only=True).test_client()
    page = client.get("/verify/register", headers={"Host": "127.0.0.1"})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
    assert page.status_code == 200
    assert "哈尔滨电机厂有限责任公司 先进单位" in text and "黑龙江飞鹤乳业有限公司 飞鹤奶粉 先进单位（产品类）" in text
    assert f"哈尔滨电机厂有限责任公司 先进单位 企业类 {year} " in text and f"产品类 {year} " in text
    assert text.rstrip().count(" 有效 ") == 1
    assert f"已撤销（{zh_date(revoked_on)}撤销，原因：以虚假材料获得称号（第二十三条））" in text
    assert "HLJ2017-" not in text and not any(code in text for code in codes)  # no number, no code
    out = tmp_path / "名录.xlsx"
    answer = _cli("register", "publish", "--out", out, "--workspace", workspace)
    assert answer.exit_code == 0 and "2 张证书" in answer.output, answer.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("持有单位（获奖人）", "项目名称", "称号", "类别", "颁发年份", "有效期", "状态")
    by_holder = {row[0]: row for row in rows[1:]}
    assert set(by_holder) == {"哈尔滨电机厂有限责任公司", "黑龙江飞鹤乳业有限公司"}
    assert by_holder["哈尔滨电机厂有限责任公司"][2:3] + by_holder["哈尔滨电机厂有限责任公司"][4:] == (
        "先进单位", year, by_holder["哈尔滨电机厂有限责任公司"][5], "有效")
    assert by_holder["黑龙江飞鹤乳业有限公司"][6].startswith("已撤销")
    flat = " ".join(str(v) for row in rows for v in row if v)
    assert "HLJ2017-" not in flat and not any(code in flat for code in codes)


def test_verify_without_a_number_or_pdf_says_what_to_give(tmp_path):
    answer = _cli("register", "verify", "--register", tmp_path / "r.db")
    assert answer.exit_code != 0 and "请写出证书编号，或用 --pdf 指定证书 PDF" in answer.output


def test_a_schema_3_workspace_gets_the_check_code_columns(tmp_path):
    import sqlalchemy as sa

    from pipeline.workspace import Workspace, db

    root = tmp_path / "ws"
    Workspace.init(root, resolve_campaign("heilongjiang", None)).close()
    engine = db.make_engine(db.sqlite_url(root / "workspace.db"))
    with engine.begin() as conn:  # as schema 3 left it: no check codes
        for table in ("certificates", "certificate_events"):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN check_code")
        db.set_meta(conn, "schema_version", "3")
    engine.dispose()
    with Workspace.open(root) as ws, ws.engine.connect() as conn:
        assert db.schema_version(conn) == db.SCHEMA_VERSION == 6
        for table in ("certificates", "certificate_events"):
            assert "check_code" in {c["name"] for c in sa.inspect(conn).get_columns(table)}
