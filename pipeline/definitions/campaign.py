"""A campaign: one year of one program, every fact of its notice, from `forms/campaigns/*.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from pipeline.common.errors import UserError
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
#: The date each issuing command prints and counts from, when --date is not given (else today).
ISSUE_DATES = {"certificates": "award_date", "notices": "notice_date"}


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


def issue_date(campaign: "Campaign", command: str, given: date | None = None, today: date | None = None) -> tuple[date, str]:
    """Given a campaign, 'certificates' or 'notices' and --date, return the issue date and where it came from (Chinese).

    --date first, then the campaign's award_date / notice_date, else today.
    """
    key = ISSUE_DATES[command]
    if given:
        return given, "--date 指定"
    if campaign.data.get(key):
        return campaign.data[key], f"活动文件 {campaign.path.name} 的 {key}"
    return today or date.today(), f"今天；可用 --date 或活动文件的 {key} 指定"


def _as_date(raw, key: str, path: Path) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise UserError(f"活动文件 {path.name} 中 {key} 不是日期（应写作 YYYY-MM-DD）：{raw}") from None


def load_campaign(path: Path | str) -> "Campaign":
    """Given a campaign file, return the Campaign."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到活动文件：{path}")
    try:
        data = yaml_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"活动文件 {path.name} 无法读取：{exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"活动文件 {path.name} 格式不对：应为 YAML 键值表")
    missing = [f"{k}（{v}）" for k, v in REQUIRED.items() if k not in data]
    missing += [f"association.{k}（{v}）" for k, v in ASSOCIATION.items() if k not in (data.get("association") or {})]
    if missing:
        raise UserError(f"活动文件 {path.name} 缺少：{'、'.join(missing)}")
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

    def context(self) -> dict:
        """The campaign as templates see it (`c`): the YAML plus Chinese-written dates."""
        ctx = Namespace(self.data)
        for key in DATES:
            if key in self.data:
                ctx[f"{key}_zh"] = zh_date(self.data[key])
        return ctx
