"""A campaign: one year of one program, every fact of its notice, from `forms/campaigns/*.yaml`.

The file is checked on load against `SCHEMA` (JSON Schema, checked by the jsonschema package; dates
are a type of their own): each mistake is one Chinese line naming the file, the line and the key
(“第 17 行 min_satisfaction 应为数字：八十”). A file that is not UTF-8 (a GBK file), indented with a tab
or not valid YAML is refused the same way, with its line, never in the codec's or PyYAML's English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import yaml

from pipeline.common import resources
from pipeline.common.errors import UserError, os_reason
from pipeline.common.zones import zone_of
from pipeline.definitions.forms import CAMPAIGNS_DIR, yaml_text

#: The campaign of the program the command line runs with when told none (the seed's 黑龙江 2017).
DEFAULT_CAMPAIGN = CAMPAIGNS_DIR / "heilongjiang-2017.yaml"
REQUIRED = {
    "id": "活动编号", "program": "所属项目", "year": "年度", "data_year": "数据年度", "deadline": "截止日期",
    "survey_start_min": "调查最早开始日期", "scope": "范围用语（如 全省）", "association": "协会信息",
    "fee": "技术服务费", "validity_years": "称号有效期（年）", "min_satisfaction": "最低满意度",
}
ASSOCIATION = {"name": "协会名称", "address": "通信地址", "postcode": "邮编", "phone": "联系电话"}
DATES = ("deadline", "survey_start_min", "announcement_date", "award_date", "notice_date")
_TEXT = {"type": "string"}
_DATE = {"type": "date"}
_COUNT = {"type": "integer", "minimum": 1}
_CODE = {"type": ["string", "integer"]}  # a postcode or phone number written without quotes reads as a number
#: What a campaign file may hold: types, units (元, 年, 分, 天) as ranges, dates; other keys are free.
SCHEMA = {
    "type": "object",
    "required": list(REQUIRED),
    "properties": {
        "id": _TEXT, "program": _TEXT, "name": _TEXT, "notice_number": _TEXT, "scope": _TEXT,
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "data_year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        **{key: _DATE for key in DATES},
        "association": {"type": "object", "required": list(ASSOCIATION),
                        "properties": {"name": _TEXT, "short_name": _TEXT, "address": _TEXT, "postcode": _CODE,
                                       "phone": _CODE, "mobile": _CODE, "fax": _CODE, "account": _CODE,
                                       "contacts": {"type": "array", "items": _TEXT}}},
        "fee": {"type": "number", "minimum": 0},
        "validity_years": {"type": ["integer", "null"], "minimum": 1, "maximum": 10},  # null: the seed sets none
        "min_satisfaction": {"type": "number", "minimum": 0, "maximum": 100},
        "correction_days": {"type": "integer", "minimum": 1, "maximum": 365},
        "respondents_all_below": _COUNT, "respondents_max": _COUNT,
        "construction": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "certificate": {"type": "object", "properties": {"issuer": _TEXT, "number_prefix": _TEXT}},
        "time_zone": _TEXT,  # the association's time zone, times are shown in it (default Asia/Shanghai)
    },
}
TYPE_NAMES = {"string": "文字", "number": "数字", "integer": "整数", "date": "日期（写作 YYYY-MM-DD，如 2017-06-20）",
              "object": "键值表", "array": "列表", "boolean": "是/否（true/false）",
              "null": "空（null）"}
#: What PyYAML's most common complaints mean, for staff.
YAML_PROBLEMS = {"mapping values are not allowed": "冒号后须有空格；值里有冒号时请给整个值加引号",
                 "could not find expected ':'": "缺少冒号（键: 值）",
                 "found character that cannot start any token": "含有不能出现在这里的字符（如 @、`、%）",
                 "expected <block end>": "缩进不对齐",
                 "found unexpected end of stream": "引号或括号没有配对",
                 "found duplicate": "同一个键写了两次",
                 # the C parser's words for the same mistakes
                 "did not find expected ',' or ']'": "方括号 [ ] 没有配对",
                 "did not find expected ',' or '}'": "花括号 { } 没有配对",
                 "did not find expected key": "缩进不对齐，或引号没有配对",
                 "did not find expected node content": "缺少值，或引号、括号没有配对",
                 "found unknown escape character": "双引号内的反斜杠 \\ 须写成 \\\\（或改用单引号）"}


def _is_date(_checker, value) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
        return True
    except ValueError:
        return False


_VALIDATOR = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("date", _is_date))(SCHEMA)


def read_yaml(raw: bytes, path: Path):
    """Given a campaign file's bytes, return its data and the line of each key (a tuple path → line); raise a
    Chinese UserError with the line for a file that is not UTF-8, is indented with a tab or is not valid YAML."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UserError(f"活动文件 {path.name} 第 {line} 行不是 UTF-8 编码（可能是 GBK 等）：请用 UTF-8 编码另存后再试") from None
    for n, line in enumerate(text.splitlines(), 1):
        if "\t" in line[:len(line) - len(line.lstrip())]:
            raise UserError(f"活动文件 {path.name} 第 {n} 行用制表符（Tab）缩进：YAML 只能用空格缩进，请改成空格")
    try:
        data = yaml_text(text)
        lines = _key_lines(yaml.compose(text, Loader=yaml.SafeLoader)) if isinstance(data, dict) else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", "") or "")
        hint = next((zh for en, zh in YAML_PROBLEMS.items() if problem.startswith(en)), "YAML 格式有误")
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        begun = getattr(exc, "context_mark", None)  # where the list, mapping or quote that was never closed began
        opened = any(word in str(getattr(exc, "context", "") or "") for word in ("flow", "quoted"))
        if opened and begun is not None and mark is not None and begun.line != mark.line:
            hint += f"（自第 {begun.line + 1} 行起）"
        raise UserError(f"活动文件 {path.name} {where}格式有误：{hint}") from None
    twice = _duplicate_key(yaml.compose(text, Loader=yaml.SafeLoader))
    if twice:
        raise UserError(f"活动文件 {path.name} {twice}：同一个键写了两次，只能保留一个") from None
    return data, lines


def _duplicate_key(node, prefix: tuple = ()) -> str | None:
    """Given a composed YAML node, return where a mapping repeats a key (第 N 行 year（第 M 行已有）), or None:
    the YAML loader would silently keep the last value."""
    if isinstance(node, yaml.MappingNode):
        seen = {}
        for key, value in node.value:
            name = ".".join(prefix + (str(key.value),))
            if key.value in seen:
                return f"第 {key.start_mark.line + 1} 行 {name}（第 {seen[key.value]} 行已有）"
            seen[key.value] = key.start_mark.line + 1
            found = _duplicate_key(value, prefix + (str(key.value),))
            if found:
                return found
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found = _duplicate_key(item, prefix)
            if found:
                return found
    return None


def _key_lines(node, prefix: tuple = ()) -> dict:
    """Given a composed YAML node, return key path (tuple) → its line (1-based), for every mapping key."""
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = prefix + (key.value,)
            lines[here] = key.start_mark.line + 1
            lines.update(_key_lines(value, here))
    return lines


def schema_problems(data: dict, lines: dict) -> list[str]:
    """Given a campaign file's data and its key lines, return one Chinese line per schema mistake, by line."""
    found = []
    for error in _VALIDATOR.iter_errors(data):
        keys = tuple(str(k) for k in error.absolute_path)
        name = ".".join(keys)
        line = lines.get(keys) or lines.get(keys[:1])
        at = f"第 {line} 行 " if line else ""
        if error.validator == "required":
            missing = re.search(r"'([^']+)'", error.message).group(1)
            meaning = (ASSOCIATION if keys == ("association",) else REQUIRED).get(missing, "")
            key = f"{name}.{missing}" if name else missing
            found.append((line or 0, f"{at}缺少 {key}（{meaning}）"))
        elif error.validator == "type":
            wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
            found.append((line or 0, f"{at}{name} 应为{'或'.join(TYPE_NAMES[t] for t in wanted)}：{error.instance}"))
        elif error.validator in ("minimum", "maximum"):
            bound = "不能小于" if error.validator == "minimum" else "不能大于"
            found.append((line or 0, f"{at}{name} {bound} {error.validator_value}：{error.instance}"))
        else:
            found.append((line or 0, f"{at}{name} 的值不对：{error.instance}"))
    zone = data.get("time_zone") if isinstance(data, dict) else None
    if isinstance(zone, str) and zone_of(zone) is None:
        line = lines.get(("time_zone",))
        found.append((line or 0, f"{'第 %s 行 ' % line if line else ''}time_zone 不是时区名称（如 Asia/Shanghai）：{zone}"))
    return [text for _, text in sorted(found)]


#: The date each issuing command prints and counts from, when --date is not given.
ISSUE_DATES = {"certificates": "award_date", "notices": "notice_date"}
#: Without award_date, certificates are dated this many days after the deadline (review time), within the year.
AWARD_AFTER_DEADLINE_DAYS = 30


def zh_date(value: date) -> str:
    """Given a date, return it written the Chinese way: 2017年6月20日."""
    return f"{value.year}年{value.month}月{value.day}日"


class Namespace(dict):
    """A dict whose keys read as attributes, so templates write c.association.name."""

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return Namespace(value) if isinstance(value, dict) and not isinstance(value, Namespace) else value


def issue_date(campaign: "Campaign", command: str, given: date | None = None,
               override: str | None = None) -> tuple[date, str]:
    """Given a campaign, 'certificates' or 'notices', --date and an override reason, return the issue date and
    where it came from (Chinese).

    --date first, then the campaign's award_date / notice_date, else a day of the campaign's own year: the
    deadline for notices, the deadline plus AWARD_AFTER_DEADLINE_DAYS (at most 31 December) for certificates;
    never the day the command happens to run. A --date outside the campaign's year, or (certificates) before
    its deadline, is refused with the reason unless `override` gives staff's reason, which the origin names.
    """
    key = ISSUE_DATES[command]
    if given:
        wrong = date_out_of_campaign(campaign, command, given)
        if wrong and not (override or "").strip():
            raise UserError(f"{wrong}；如确需使用此日期，请加 --date-override \"理由\"")
        return given, f"--date 指定（{wrong}；理由：{override.strip()}）" if wrong else "--date 指定"
    if campaign.data.get(key):
        return campaign.data[key], f"活动文件 {campaign.path.name} 的 {key}"
    deadline = campaign.data["deadline"]
    if command == "notices":
        return deadline, f"活动文件 {campaign.path.name} 未写 {key}，按截止日期计；可用 --date 或 {key} 指定"
    day = min(deadline + timedelta(days=AWARD_AFTER_DEADLINE_DAYS), date(deadline.year, 12, 31))
    return day, (f"活动文件 {campaign.path.name} 未写 {key}，按截止日期后 {AWARD_AFTER_DEADLINE_DAYS} 天计"
                 f"（不晚于当年12月31日）；可用 --date 或 {key} 指定")


def date_out_of_campaign(campaign: "Campaign", command: str, day: date) -> str | None:
    """Given a campaign, 'certificates' or 'notices' and a date, return why the date does not belong to the
    campaign (Chinese), or None: it must fall in the campaign's year, and certificates not before its deadline."""
    year = int(campaign.data["year"])
    if day.year != year:
        return f"日期 {zh_date(day)} 不在活动 {campaign.data['id']} 的年度（{year}年）内"
    deadline = campaign.data.get("deadline")
    if command == "certificates" and deadline and day < deadline:
        return f"颁发日期 {zh_date(day)} 早于活动的申报截止日期 {zh_date(deadline)}"
    return None


def _as_date(raw, key: str, path: Path) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise UserError(f"活动文件 {path.name} 中 {key} 不是日期（应写作 YYYY-MM-DD）：{raw}") from None


def load_campaign(path: Path | str) -> "Campaign":
    """Given a campaign file (or a bare campaign id such as liaoning-2021, looked up in the staff folders and the
    package's campaigns/), return the Campaign."""
    path = Path(path)
    if not path.is_file() and not path.suffix and len(path.parts) == 1:
        path = resources.layered("campaigns", f"{path.name}.yaml")
    if not path.is_file():
        raise UserError(f"找不到活动文件：{path}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"活动文件 {path.name} 无法读取：{os_reason(exc)}") from None
    data, lines = read_yaml(raw, path)
    if not isinstance(data, dict):
        raise UserError(f"活动文件 {path.name} 格式不对：应为 YAML 键值表")
    problems = schema_problems(data, lines)
    if problems:
        raise UserError(f"活动文件 {path.name} 有误：" + "；".join(problems))
    for key in DATES:
        if key in data:
            data[key] = _as_date(data[key], key, path)
    return Campaign(data=Namespace(data), path=path)


@dataclass(frozen=True)
class Campaign:
    """A loaded campaign; attributes read through to the YAML (campaign.year, campaign.association)."""

    data: Namespace
    path: Path

    def __getattr__(self, name):
        if name in ("data", "path"):
            raise AttributeError(name)
        return getattr(self.data, name)

    @property
    def zone(self):
        """The association's time zone (the file's time_zone, Asia/Shanghai by default): times are shown in it."""
        return zone_of(self.data.get("time_zone"))

    def context(self) -> dict:
        """The campaign as templates see it (`c`): the YAML plus Chinese-written dates."""
        ctx = Namespace(self.data)
        for key in DATES:
            if key in self.data:
                ctx[f"{key}_zh"] = zh_date(self.data[key])
        return ctx
