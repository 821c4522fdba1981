"""The page in a real browser: Playwright drives Debian's chromium (never a downloaded browser).

One walk through a campaign on the bundled sample: upload the inbox, wait for the list, open an
applicant, confirm an issue, move it to 获奖, print the certificates, download summary.xlsx and
read it back; then sign in on a non-loopback configuration. With MANYI_SCREENSHOTS=DIR set
(`make screenshots`) the pages are photographed there for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import resolve_campaign
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = os.environ.get("MANYI_SCREENSHOTS")
WAIT = 180_000  # ms: a receive with a .doc waits for LibreOffice

pytestmark = pytest.mark.xdist_group("browser")


class Served:
    """A page served by waitress on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app):
        import waitress

        self.server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from pipeline.workspace import Workspace

    root = tmp_path_factory.mktemp("web-browser") / "ws"
    Workspace.init(root, resolve_campaign("heilongjiang", None)).close()
    return root


def shot(page, name: str) -> None:
    """Photograph the page for the README when MANYI_SCREENSHOTS names a folder."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.jpg"), type="jpeg", quality=70)


def wait_job(page) -> None:
    """Wait on a job's page until the job is done; fail with its Chinese message if it failed."""
    page.wait_for_selector("#job-done, #job-failed", timeout=WAIT)
    failed = page.query_selector("#job-failed")
    assert failed is None, failed.inner_text()


def test_a_campaign_in_the_browser(browser, workspace, tmp_path):
    from openpyxl import load_workbook

    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace

    served = Served(create_app(workspace))
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    try:
        with Workspace.open(workspace) as ws:
            received = ws.campaign.deadline - timedelta(days=2)
        page.goto(served.url + "/receive")
        page.set_input_files("#folder", str(SAMPLES / "inbox"))  # the inbox folder, as a staff member picks it
        page.fill("input[name=received]", received.isoformat())
        page.click("#receive-button")
        wait_job(page)
        assert page.locator("#received").count() == 1
        text = page.inner_text("#received")
        assert "新申报（5）" in text and "哈尔滨电机厂有限责任公司" in text
        shot(page, "received")

        page.goto(served.url + "/applicants")
        page.wait_for_selector("#applicants-table tr td a")
        rows = page.locator("#applicants-table tr").count() - 1
        assert rows == 5
        shot(page, "applicants")

        # The one applicant with a single error: confirmed by hand, it is complete and moves on by itself.
        name = "龙江建工集团有限公司"
        page.goto(served.url + "/applicants?q=" + name)
        page.click(f"#applicants-table a:text('{name}')")
        page.wait_for_selector("#issues")
        assert "需补正" in page.inner_text("h1")
        assert page.locator("form.decide").count() == 1
        page.fill("form.decide input[name=note]", "已电话核实，材料原件无误")
        page.click("form.decide button[value=confirm]")
        page.wait_for_selector(".flash")
        assert page.locator("form.decide").count() == 0
        assert "已电话核实，材料原件无误" in page.inner_text("#issues")
        assert "材料齐全" in page.inner_text("h1")
        shot(page, "applicant")

        for _ in range(8):  # 材料齐全 → 已推荐 → 评审 → 公示 → 获奖, choosing 获奖 when it is offered
            if page.locator("#move-to").count() == 0:
                break
            options = page.locator("#move-to option").all_inner_texts()
            page.select_option("#move-to", "获奖" if "获奖" in options else options[0])
            page.click("#move-button")
            page.wait_for_selector(".flash")
        assert "获奖" in page.inner_text("h1")

        page.goto(served.url + "/awards")
        assert name in page.inner_text("main")
        page.click("#print-certificates")
        wait_job(page)
        with page.expect_download() as got:
            page.click("ul.files a >> nth=0")
        pdf = tmp_path / got.value.suggested_filename
        got.value.save_as(pdf)
        assert pdf.read_bytes()[:5] == b"%PDF-"
        page.goto(served.url + "/awards")
        shown = page.inner_text("main")
        # in the register, dated in the campaign's year: its status is what its term says today
        end = re.search(r"有 效 期：\S+ 至 (\d+)年(\d+)月(\d+)日", shown)
        status = "有效" if date(*map(int, end.groups())) >= date.today() else "已过期"
        assert name in shown and "颁发日期：2017年" in shown and f"状　　态：{status}" in shown
        shot(page, "awards")
        page.on("dialog", lambda dialog: dialog.accept())  # 确定撤销证书？
        page.fill("input[name=reason]", "复评不合格")
        page.click("button[value=revoke]")
        page.wait_for_selector(".flash")
        assert "状　　态：已撤销" in page.inner_text("main") and "复评不合格" in page.inner_text("main")

        page.goto(served.url + "/downloads")
        page.click("#make-summary")
        wait_job(page)
        with page.expect_download() as got:
            page.click("ul.files a >> nth=0")
        book_path = tmp_path / "summary.xlsx"
        got.value.save_as(book_path)
        book = load_workbook(book_path, read_only=True)
        rows = [r for r in book["工作区"].iter_rows(values_only=True)]
        header = rows[0]
        ours = [r for r in rows[1:] if r[header.index("企业名称")] == name]
        assert ours and ours[0][header.index("阶段")] == "获奖"
        assert len(rows) - 1 == 5

        page.goto(served.url + "/")
        assert "获奖" in page.inner_text(".counts")
        shot(page, "home")
    finally:
        context.close()
        served.close()


def test_signing_in_on_a_non_loopback_configuration(browser, workspace):
    from pipeline.web.app import create_app, site_of
    from pipeline.web.auth import hash_password

    app = create_app(workspace, host="192.0.2.10")  # served on loopback here, configured as on a LAN
    site_of(app).store.add_user("wangmin", "staff", hash_password("correct horse"))
    served = Served(app)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(served.url + "/applicants")
        assert "/login" in page.url
        page.fill("input[name=name]", "wangmin")
        page.fill("input[name=password]", "wrong password")
        page.click("form button")
        assert "用户名或密码不对" in page.inner_text("main")
        page.fill("input[name=name]", "wangmin")
        page.fill("input[name=password]", "correct horse")
        page.click("form button")
        page.wait_for_selector("#applicants-table")
        assert page.url.endswith("/applicants")
        assert "wangmin（工作人员）" in page.inner_text("header")
        cookie = next(c for c in context.cookies() if c["name"] == "manyi_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.click("header form button")  # 退出
        page.wait_for_selector("input[name=password]")
        page.goto(served.url + "/")
        assert "/login" in page.url
    finally:
        context.close()
        served.close()


def test_a_packet_dropped_on_the_self_check_page(browser, workspace):
    from pipeline.web.app import create_app

    served = Served(create_app(workspace, self_check=True))
    packet = SAMPLES / "inbox" / "冰城家政服务有限公司.docx"
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(served.url + "/selfcheck")
        data = list(packet.read_bytes())
        page.evaluate("""([name, bytes]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], name));
            document.querySelector(".drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
        }""", [packet.name, data])
        assert page.inner_text("[data-drop-list]") == "已选择 1 个文件"
        page.click("form button")
        page.wait_for_selector("ol.issues", timeout=WAIT)
        text = page.inner_text("main")
        assert "冰城家政服务有限公司" in text and "【必须修改】缺少《实施用户满意工程情况的报告》" in text
        assert "上传的文件已删除" in text
    finally:
        context.close()
        served.close()
