"""A national workspace for the review tests: 12 applicants received from filled packets, 5 experts.

One expert (李明) declares a conflict with one applicant; another (王芳) comes from 北京市质量协会, the 推进单位 of
two applicants; a third (张伟) lives in 上海市, where one applicant is."""

from __future__ import annotations

from pathlib import Path

from pipeline.definitions.programs import load_program, resolve_campaign
from program_packets import write_filled

#: (company name, 推进单位, address) of the 12 applicants, in the order they are received.
APPLICANTS = [
    ("北方示范电器有限公司", "北京市质量协会", "北京市朝阳区建国路1号"),
    ("京华示范服务有限公司", "北京市质量协会", "北京市海淀区中关村大街2号"),
    ("沪上示范电器有限公司", "上海市质量协会", "上海市浦东新区世纪大道3号"),
    ("辽沈示范机械有限公司", "沈阳市质量协会", "沈阳市和平区南京北街4号"),
    ("津门示范电器有限公司", "天津市质量协会", "天津市和平区南京路5号"),
    ("齐鲁示范重工有限公司", "山东省质量协会", "济南市历下区泉城路6号"),
    ("岭南示范电器有限公司", "广东省质量协会", "广州市天河区天河路7号"),
    ("巴蜀示范食品有限公司", "四川省质量协会", "成都市锦江区春熙路8号"),
    ("荆楚示范汽车有限公司", "湖北省质量协会", "武汉市江汉区解放大道9号"),
    ("三秦示范能源有限公司", "陕西省质量协会", "西安市碑林区东大街10号"),
    ("八闽示范茶业有限公司", "福建省质量协会", "福州市鼓楼区五四路11号"),
    ("吴越示范纺织有限公司", "浙江省质量协会", "杭州市上城区延安路12号"),
]
#: (name, 推进单位, region) of the five experts of the 资料评审 round.
EXPERTS = [("王芳", "北京市质量协会", ""), ("李明", "中国质量协会", ""), ("张伟", "", "上海市"),
           ("赵静", "中国质量协会", ""), ("陈刚", "", "")]
#: The applicant 李明 declares a conflict with (index into APPLICANTS).
CONFLICT = 5


def renamed(name: str, unit: str, address: str):
    """Given an applicant's name, 推进单位 and address, return the `change` that types them into its packet."""

    def change(form_id, text):
        if isinstance(text, dict):
            return {**text, **{k: v for k, v in (("company_name", name), ("recommending_unit", unit),
                                                 ("address", address)) if k in text}}
        return text

    return change


def build(root: Path) -> Path:
    """Given a folder, make the national workspace there with the 12 applicants received; return its folder."""
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    program = load_program("national")
    categories = list(program.categories)
    inbox = root / "inbox"
    for n, (name, unit, address) in enumerate(APPLICANTS):
        write_filled("national", categories[n % len(categories)], inbox / f"{n + 1:02d}",
                     change=renamed(name, unit, address))
    with Workspace.init(root / "ws", resolve_campaign("national", None)) as ws:
        receive(ws, [inbox], received=ws.campaign.deadline, jobs=1)
    return root / "ws"
