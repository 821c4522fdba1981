"""The forms of a packet, loaded from `forms/*.yaml`: the one description everything follows.

Templates are built from a form's `layout`; extraction finds its fields by `label` (and by the
side-label `group` the layout puts them in); rules read `type`, `required` and `format`; the
summary workbook heads its columns with the labels.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.common.errors import UserError
from pipeline.common.resources import FORMS
from pipeline.common.text import fold

FORMS_DIR = FORMS  # the packaged forms (pipeline/common/resources.py)
PROGRAMS_DIR = FORMS_DIR / "programs"
CAMPAIGNS_DIR = FORMS_DIR / "campaigns"
FIELD_TYPES = ("text", "number", "date", "period", "choice", "multi", "yesno", "list")


@dataclass(frozen=True)
class Field:
    """One field of a form, with everything needed to print, find, normalise and check it."""

    id: str
    label: str
    type: str = "text"
    options: dict = field(default_factory=dict)
    aliases: tuple = ()
    unit: str | None = None
    required: bool = True
    format: str | None = None
    #: The side label of the rows the field sits in (工业企业填写 …), from the layout.
    group: str | None = None
    #: 0 for the first field of this form (and group) with the same folded label, 1 for the next …
    occurrence: int = 0
    #: For a date written in another field's printed 年 月 日 slot (under a seal line), that field's id.
    slot: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The folded label and aliases, for matching cells."""
        return tuple(dict.fromkeys(fold(x) for x in (self.label, *self.aliases)))

    @property
    def plain_label(self) -> str:
        """The label without the spaces printed to spread it across a cell."""
        return "".join(self.label.split())


@dataclass(frozen=True)
class Form:
    """One form: its id (contract), variant (the category, for the four 申请表), title and fields."""

    id: str
    title: str
    fields: dict
    layout: list
    variant: str | None = None
    detect: tuple = ()
    categories: tuple = ()
    required: bool = False
    standalone: bool = False
    in_packet: bool = True
    spec: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        """'application.product' for a variant, else the id: unique across forms."""
        return f"{self.id}.{self.variant}" if self.variant else self.id

    def printed_title(self, campaign) -> str:
        """The title as printed for a campaign (实施全省用户满意工程先进单位（企业类）申请表, 2021年度…申报表)."""
        return self.title.replace("{{ c.scope }}", campaign.scope).replace("{{ c.year }}", str(campaign.year))

    def get(self, name, default=None):
        """A form-level setting from the YAML (`parts`, `outline`, `max_chars` …)."""
        return self.spec.get(name, default)

    def seal_label(self) -> str | None:
        """The printed words beside which this form is stamped (企业名称（公章）, 承诺企业（盖章）…), or None when
        the form asks for no seal: read from the form's own description, so every program's forms say it."""
        import json

        text = json.dumps([self.spec, self.layout], ensure_ascii=False, default=str)
        found = _SEAL_SLOT.search(text)
        return found[0] if found else None


#: A seal slot as forms print it: a few words, then （公章）, （盖章） or （加盖公章）; never one inside a note.
_SEAL_SLOT = re.compile(r"[^\"\\\s：:，。；注]{0,16}（(?:加盖)?(?:公章|盖章)）")


def layout_groups(layout: list) -> dict[str, str]:
    """Given a layout, return field id → side label for the fields in rows a side label spans."""
    groups: dict[str, str] = {}
    for item in layout:
        table = item.get("table") if isinstance(item, dict) else None
        if not table:
            continue
        spans: list[tuple[int, str]] = []  # (rows left, label)
        for row in table.get("rows", []):
            spans = [(n, label) for n, label in spans if n > 0]
            for cell in row:
                if isinstance(cell, dict) and cell.get("vertical") and cell.get("rowspan", 1) > 1 and "label" in cell:
                    spans.append((cell["rowspan"], "".join(cell["label"].split())))
            current = spans[-1][1] if spans else None
            for fid in row_fields(row):
                if current:
                    groups[fid] = current
            spans = [(n - 1, label) for n, label in spans]
    return groups


def row_fields(row: list) -> list[str]:
    """Given a layout row, return the ids of the fields it holds, in order (a cell's slot date after its field)."""
    ids = []
    for cell in row:
        if isinstance(cell, str) and cell.startswith("="):
            ids.append(cell[1:])
        elif isinstance(cell, dict) and ("field" in cell or "value" in cell):
            ids.append(cell.get("field") or cell.get("value"))
            if cell.get("date"):
                ids.append(cell["date"])
    return ids


def layout_slots(layout: list) -> dict[str, str]:
    """Given a layout, return date field id → the field whose printed 年 月 日 slot (or line) holds it.

    `{field: opinion, footer: "…（公章）\n年 月 日", date: opinion_date}` and
    `{line: company_name, printed: 承诺企业（盖章）, date: date}` (a date on that line or below it).
    """
    slots = {}
    for item in layout:
        if not isinstance(item, dict):
            continue
        if item.get("line") and item.get("date"):
            slots[item["date"]] = item["line"]
        for row in (item.get("table") or {}).get("rows", []) if isinstance(item.get("table"), dict) else []:
            for cell in row:
                if isinstance(cell, dict) and cell.get("date"):
                    slots[cell["date"]] = cell.get("field") or cell.get("value")
    return slots


def build_fields(spec: dict, groups: dict[str, str], path: Path, slots: dict[str, str] | None = None) -> dict[str, Field]:
    """Given a form's YAML, its layout groups and its file, return its Fields by id (group and occurrence set)."""
    required_fields = spec.get("required_fields", [])
    seen: dict[tuple, int] = {}
    fields = {}
    for fid, raw in (spec.get("fields") or {}).items():
        raw = dict(raw or {})
        ftype = raw.pop("type", "text")
        if ftype not in FIELD_TYPES:
            raise UserError(f"表单描述 {path.name} 中字段 {fid} 的类型 {ftype} 无效")
        default_required = required_fields == "all" or fid in (required_fields or [])
        group = groups.get(fid)
        key = (group, fold(raw.get("label", fid)))
        fields[fid] = Field(
            id=fid,
            label=str(raw.pop("label", fid)),
            type=ftype,
            options={str(k): str(v) for k, v in (raw.pop("options", None) or {}).items()},
            aliases=tuple(raw.pop("aliases", ()) or ()),
            unit=raw.pop("unit", None),
            required=bool(raw.pop("required", default_required)),
            format=raw.pop("format", None),
            group=group,
            occurrence=seen.get(key, 0),
            slot=(slots or {}).get(fid),
        )
        seen[key] = seen.get(key, 0) + 1
        if raw:
            raise UserError(f"表单描述 {path.name} 中字段 {fid} 有未知设置：{', '.join(raw)}")
    return fields


#: libyaml's loader when PyYAML has it (ten times faster: every run loads all the forms), else the pure one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_text(text: str):
    """Given YAML text, return its data (safe loading: plain types only)."""
    return yaml.load(text, Loader=_LOADER)


def load_form(path: Path) -> Form:
    """Given a form's YAML file, return the Form it describes."""
    try:
        spec = yaml_text(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"无法读取表单描述 {path}：{exc}") from exc
    layout = spec.get("layout") or []
    return Form(
        id=spec["id"],
        title=spec["title"],
        variant=spec.get("variant"),
        fields=build_fields(spec, layout_groups(layout), path, layout_slots(layout)),
        layout=layout,
        detect=tuple(spec.get("detect") or (spec["title"],)),
        categories=tuple(spec.get("categories") or ()),
        required=bool(spec.get("required", False)),
        standalone=bool(spec.get("standalone", False)),
        in_packet=bool(spec.get("in_packet", True)),
        spec=spec,
    )


@functools.lru_cache(maxsize=8)
def load_forms(directory: Path = FORMS_DIR) -> dict[str, Form]:
    """Given the forms folder, return every form by key ('cover', 'application.product', …)."""
    forms = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        if path.stem == "packet":
            continue
        form = load_form(path)
        forms[form.key] = form
    return forms


@functools.lru_cache(maxsize=8)
def packet_spec(directory: Path = FORMS_DIR) -> dict:
    """Given the forms folder, return packet.yaml: the order of forms in a packet."""
    return yaml_text((Path(directory) / "packet.yaml").read_text(encoding="utf-8"))


def categories() -> dict[str, str]:
    """Return category id → printed name (企业类 …), as the cover's check boxes print them."""
    return dict(load_forms()["cover"].fields["category"].options)


def category_id(text: str) -> str | None:
    """Given '产品类', '产品', 'product' or '建筑工程类', return the category id, or None."""
    key = fold(text or "")
    for cid, name in categories().items():
        if key in (cid, fold(name), fold(name).removesuffix("类")):
            return cid
    return {"工程类": "construction", "工程": "construction"}.get(key)


def application_form(category: str) -> Form:
    """Given a category id, return its 申请表."""
    return load_forms()[f"application.{category}"]


def packet_forms(category: str) -> list[Form]:
    """Given a category id, return the forms of its packet in the seed's order."""
    forms = load_forms()
    result = []
    for form_id in packet_spec()["order"]:
        for form in forms.values():
            if form.id == form_id and category in form.categories and form.in_packet:
                if form.variant in (None, category):
                    result.append(form)
    return result


def required_forms(category: str) -> list[Form]:
    """Given a category id, return the forms a submission of that category must hold."""
    return [
        form for form in load_forms().values()
        if form.required and category in form.categories and form.variant in (None, category)
    ]
