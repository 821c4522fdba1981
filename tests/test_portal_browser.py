"""The applicants' page in a real browser: Playwright on Debian's chromium.

Staff invite the sample roster on their page and download the workbook of links; an applicant opens its link
on the portal served alone, downloads its pre-filled packet, uploads it filled with one field missing, sees
that item (form and field) at once and sends it; staff see the version and send a 补正通知; the applicant
reads it and uploads the correction; staff see the comparison of the two versions.

The packet is "filled" in code: the downloaded file must carry the roster's name (read back with
python-docx), and the filled packet is the same program template rendered with every field typed
(tests/corpus.py) but one.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path

import docx
import pytest

from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import resolve_campaign

sys.path.insert(0, str(Path(__file__).parent))
from test_portal import BEFORE, COMPANY, filled  # noqa: E402
from test_web_browser import CHROMIUM, Served, wait_job  # noqa: E402

pytestmark = pytest.mark.xdist_group("browser")
WAIT = 180_000


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])


def test_invite_upload_notice_correct_in_the_browser(browser, tmp_path):
    from openpyxl import load_workbook

    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace, invitations

    root = tmp_path / "ws"
    Workspace.init(root, resolve_campaign("heilongjiang", None)).close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(invitations, "today", lambda: BEFORE)
        staff_site, portal_site = Served(create_app(root)), Served(create_app(root, portal_only=True))
        context = browser.new_context(accept_downloads=True, locale="zh-CN")
        staff, applicant = context.new_page(), browser.new_context(accept_downloads=True, locale="zh-CN").new_page()
        try:
            # Staff invite the roster and take the workbook of links.
            staff.goto(staff_site.url + "/invitations")
            staff.set_input_files("#roster", str(SAMPLES / "企业名单.xlsx"))
            staff.click("#invite-button")
            wait_job(staff)
            with staff.expect_download() as got:
                staff.click("ul.files a >> nth=0")
            book = tmp_path / "邀请.xlsx"
            got.value.save_as(book)
            rows = {r[0]: r for r in list(load_workbook(book).active.iter_rows(values_only=True))[1:]}
            assert set(rows) == {"哈尔滨电机厂有限责任公司", "黑龙江北方家电有限公司", "龙江建工集团有限公司",
                                 "冰城家政服务有限公司"}
            path = "/apply/" + rows[COMPANY][6].rsplit("/apply/", 1)[1]  # the link, on the portal's own address

            # The applicant opens its link and downloads its pre-filled packet.
            applicant.goto(portal_site.url + path)
            assert COMPANY in applicant.inner_text("h1")
            with applicant.expect_download() as got:
                applicant.click("#packet")
            packet = tmp_path / "packet.docx"
            got.value.save_as(packet)
            assert COMPANY in docx_text(packet.read_bytes()) and "zl@hec.com.cn" in docx_text(packet.read_bytes())

            # It uploads the packet filled with one field missing, sees the item at once, sends it.
            files = filled(tmp_path / "v1", COMPANY, application__legal_representative=None)
            # the file inputs speak Chinese whatever the browser's own language (its native button is hidden)
            assert applicant.locator("button.file-pick").all_inner_texts() == ["选择文件", "选择文件夹"]
            assert applicant.locator("#files").bounding_box()["width"] <= 1  # in the form, out of sight
            assert applicant.inner_text("#files + .file-chosen") == "未选择"
            applicant.set_input_files("#files", [str(p) for p in files])
            assert applicant.inner_text("#files + .file-chosen") == "已选 2 个文件"
            applicant.click("#check-button")
            applicant.wait_for_selector("#items", timeout=WAIT)
            errors = applicant.locator("#items tr.sev-error").all_inner_texts()
            assert len(errors) == 1 and "法定代表人姓名" in errors[0] and "申请表" in errors[0]
            applicant.click("#send-button")
            applicant.wait_for_selector(".flash")
            assert "第 1 版" in applicant.inner_text(".flash")
            assert "需补正" in applicant.inner_text("#stage")

            # Staff see the version and send the notice.
            with Workspace.open(root) as ws:
                aid = ws.find(COMPANY)
            staff.goto(f"{staff_site.url}/applicants/{aid}")
            assert "第 1 版" in staff.inner_text("main")
            staff.goto(staff_site.url + "/downloads")
            staff.click("form[action='/downloads/notices'] button")
            wait_job(staff)
            assert "已生成 1 份补正通知" in staff.inner_text("#job-done")

            # The applicant reads the notice and uploads the correction.
            applicant.goto(portal_site.url + path)
            notices = applicant.inner_text("#notices")
            assert "BZ2017-0001" in notices and "法定代表人" in notices
            with applicant.expect_download() as got:
                applicant.click(".notice-letter")
            assert COMPANY in docx_text(Path(got.value.path()).read_bytes())
            files = filled(tmp_path / "v2", COMPANY)
            applicant.set_input_files("#files", [str(p) for p in files])
            applicant.click("#check-button")
            applicant.wait_for_selector("#no-issues, #items", timeout=WAIT)
            assert applicant.locator("#items tr.sev-error").count() == 0
            applicant.click("#send-button")
            applicant.wait_for_selector(".flash")
            assert "第 2 版" in applicant.inner_text(".flash")

            # Staff see the comparison.
            staff.goto(f"{staff_site.url}/applicants/{aid}")
            comparison = staff.inner_text(".comparison")
            assert "与上一版相比" in comparison and "法定代表人" in comparison
            assert "材料齐全" in staff.inner_text("h1")
        finally:
            context.close()
            staff_site.close()
            portal_site.close()
    shutil.rmtree(root / "web", ignore_errors=True)
