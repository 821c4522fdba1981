"""A campaign: one year of one program, every fact of its notice, from `forms/campaigns/*.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
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
