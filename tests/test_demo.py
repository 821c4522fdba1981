"""`manyi demo` on the bundled sample: every step writes what staff expect."""

import json

import pytest

from pipeline.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    lines = []
    return run_demo(out, echo=lines.append), lines


def test_the_sample_parses_to_its_designed_outcome(demo):
    steps, _lines = demo
    records = {r["source"]: r for r in (json.loads(p.read_text(encoding="utf-8"))
                                         for p in (steps["3-解析结果"] / "records").glob("*.json"))}
    assert len(records) == 5
    codes = {src: {i["code"] for i in r["issues"] if i["severity"] == "error"} for src, r in records.items()}
    assert codes["哈尔滨电机厂有限责任公司"] == set() and codes["齐齐哈尔重型电器有限公司"] == set()
    assert codes["北方家电申报材料.zip"] == {"series_product"}
    assert codes["龙江建工集团有限公司"] == {"below_threshold"}
    assert "missing_form" in codes["冰城家政服务有限公司.docx"]
    assert records["北方家电申报材料.zip"]["company_name"] == "黑龙江北方家电有限公司"
    assert records["龙江建工集团有限公司"]["category"] == "construction"


def test_every_step_writes_its_outputs(demo):
    steps, lines = demo
    assert len(list(steps["1-空白申报材料"].glob("*.docx"))) == 6
    assert len(list(steps["2-预填申报材料"].glob("*.docx"))) == 4
    assert (steps["3-解析结果"] / "summary.xlsx").is_file()
    assert len(list(steps["4-补正通知"].glob("*_补正通知.docx"))) == 2
    # 龙江建工 fails an eligibility condition (below_threshold): told so, not asked to correct.
    assert [p.name for p in steps["4-补正通知"].glob("*_不符合申报条件告知书.docx")] == ["龙江建工集团有限公司_不符合申报条件告知书.docx"]
    assert len(list(steps["5-推荐汇总表"].glob("*.docx"))) == 1
    assert len(list(steps["6-证书"].glob("*.docx"))) == 3
    assert any("证书编号：HLJ2017-" in line for line in lines)
    assert lines[-1].startswith("演示完成")


def test_the_demo_leaves_a_workspace_and_says_how_to_open_its_page(demo):
    from pipeline.workspace import Workspace

    steps, lines = demo
    with Workspace.open(steps["7-工作区"]) as ws:
        assert ws.applicants(limit=None).total == 5
    assert any(line.strip().endswith(f"serve {steps['7-工作区']} --open") for line in lines)
    assert any("http://127.0.0.1:8000/" in line for line in lines)
