"""The page's words in English and Chinese, and the one way every number is written.

Rates are written by ``percent`` alone, in tables, chart labels and text, so a
figure reads the same wherever it appears (issue 16: 6.2% in text, 6% in a chart).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

LANGS = ("en", "zh")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Quarterly review",
        "of": "of",
        "note": "Figures from fewer than {k} residents are suppressed, never shown as zero.",
        "summary": "The district at a glance",
        "drill": "By street, community and compound",
        "drill_note": "Open a street to see its communities, a community to see its compounds.",
        "best": "Best compounds",
        "attention": "Compounds needing attention (satisfaction below {threshold})",
        "none_attention": "No compound is below {threshold} this quarter.",
        "movers": "Movers in the compound ranking since {previous}",
        "up": "up",
        "down": "down",
        "no_movers": "No compound changed rank.",
        "proposals": "Projects rated this quarter",
        "pipeline": "Proposals of {quarter}: where they stand (as of {as_of})",
        "cycle": "Cycle times of steps taken in {quarter} (days, median / 90th percentile)",
        "overdue": "Overdue work on {as_of}",
        "no_overdue": "No work is overdue.",
        "money": "Planned against actual spending, projects completed in {quarter}",
        "money_totals": "Spending per area, projects completed in {quarter}",
        "no_money": "No project was completed this quarter.",
        "money_unknown": "Spending is read from the store, which this page was not given.",
        "area": "area",
        "id": "id",
        "rank": "rank",
        "move": "change",
        "satisfaction": "satisfaction",
        "rate": "satisfaction rate",
        "full_rate": "fully satisfied",
        "trend": "last four quarters",
        "n": "ratings (N)",
        "participation": "participation",
        "participants": "participants",
        "residents": "residents",
        "coverage": "council coverage",
        "councils": "councils",
        "stages": "stages",
        "proposal": "project",
        "compound": "compound",
        "round": "round",
        "planned": "planned",
        "spent": "spent",
        "difference": "difference",
        "projects": "projects",
        "raised": "raised this quarter",
        "deadline": "deadline",
        "responsible": "responsible",
        "ask_to_decide": "ask → decide",
        "decide_to_done": "decide → done",
        "done_to_publish": "done → publish",
        "count": "count",
        "suppressed": "suppressed",
        "no_ratings": "no ratings",
        "unknown": "—",
        "satisfied": "satisfied",
        "basically_satisfied": "basically satisfied",
        "dissatisfied": "dissatisfied",
        "head": "Published tree head of the log",
        "no_head": "No tree head has been published for this log.",
        "generated": "Generated from the views at notification {position}.",
        "district": "district",
        "street": "street",
        "below-street": "Streets, ranked",
        "below-community": "Communities, ranked",
        "below-compound": "Compounds, ranked",
        "community": "community",
        "rising": "rising",
        "falling": "falling",
        "steady": "steady",
    },
    "zh": {
        "title": "季度观摩评比",
        "of": "",
        "note": "少于 {k} 位居民的数字不予显示（标为“不予显示”，不作零计）。",
        "summary": "全区概况",
        "drill": "分街道、社区、楼院",
        "drill_note": "展开街道查看所属社区，展开社区查看所属楼院。",
        "best": "满意率最高的楼院",
        "attention": "需要关注的楼院（满意率低于 {threshold}）",
        "none_attention": "本季度没有满意率低于 {threshold} 的楼院。",
        "movers": "楼院排名较 {previous} 的变化",
        "up": "上升",
        "down": "下降",
        "no_movers": "没有楼院排名变化。",
        "proposals": "本季度评价的项目",
        "pipeline": "{quarter} 提出的事项：目前所处阶段（截至 {as_of}）",
        "cycle": "{quarter} 内完成各环节所用天数（中位数 / 第 90 百分位）",
        "overdue": "截至 {as_of} 逾期未完成的事项",
        "no_overdue": "没有逾期事项。",
        "money": "{quarter} 完成项目的预算与实际支出",
        "money_totals": "各区域 {quarter} 完成项目的支出",
        "no_money": "本季度没有完成的项目。",
        "money_unknown": "支出需从事件库读取，本页未获得事件库。",
        "area": "区域",
        "id": "编号",
        "rank": "名次",
        "move": "变化",
        "satisfaction": "满意度",
        "rate": "满意率",
        "full_rate": "非常满意率",
        "trend": "近四个季度",
        "n": "评价数（N）",
        "participation": "参与率",
        "participants": "参与人数",
        "residents": "登记居民",
        "coverage": "议事会覆盖率",
        "councils": "议事会",
        "stages": "阶段",
        "proposal": "项目",
        "compound": "楼院",
        "round": "轮次",
        "planned": "预算",
        "spent": "实际支出",
        "difference": "差额",
        "projects": "项目数",
        "raised": "本季度提出",
        "deadline": "期限",
        "responsible": "责任人",
        "ask_to_decide": "问 → 定",
        "decide_to_done": "定 → 办结",
        "done_to_publish": "办结 → 晒",
        "count": "数量",
        "suppressed": "不予显示",
        "no_ratings": "无评价",
        "unknown": "—",
        "satisfied": "满意",
        "basically_satisfied": "基本满意",
        "dissatisfied": "不满意",
        "head": "事件日志已公布的树根（tree head）",
        "no_head": "本日志尚未公布树根。",
        "generated": "依据视图至第 {position} 条通知生成。",
        "district": "区",
        "street": "街道",
        "below-street": "街道排名",
        "below-community": "社区排名",
        "below-compound": "楼院排名",
        "community": "社区",
        "rising": "上升",
        "falling": "下降",
        "steady": "持平",
    },
}

STAGES: dict[str, dict[str, str]] = {
    "en": {
        "asked": "asked",
        "discussing": "discussing",
        "doing": "doing",
        "done": "done",
        "rating": "rating",
        "rejected": "rejected",
        "closed": "closed",
        "withdrawn": "withdrawn",
    },
    "zh": {
        "asked": "已提出（问）",
        "discussing": "议事中（议）",
        "doing": "实施中（办）",
        "done": "已完成待公示",
        "rating": "评价中（评）",
        "rejected": "未通过",
        "closed": "已办结",
        "withdrawn": "已撤回",
    },
}
STAGE_ORDER = ("asked", "discussing", "doing", "done", "rating", "rejected", "closed", "withdrawn")


def words(lang: str) -> dict[str, str]:
    """The page's words in ``lang`` (English for any other)."""
    return TEXT.get(lang, TEXT["en"])


def stage_name(stage: str, lang: str) -> str:
    """A stage in ``lang``; a stage this page does not know keeps its own name."""
    return STAGES.get(lang, STAGES["en"]).get(stage, stage)


def percent(rate: Decimal) -> str:
    """A rate as a percentage with one decimal, half to even: 0.8333 -> 83.3%."""
    return f"{(rate * 100).quantize(Decimal('0.1'), ROUND_HALF_EVEN)}%"


def money(amount: Decimal) -> str:
    """An amount of money with thousands separated: 12345.5 -> 12,345.50."""
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_EVEN):,}"


def days(value: Decimal | None) -> str:
    """Days with one decimal, or a dash when no proposal took the step."""
    return "—" if value is None else str(value.quantize(Decimal("0.1"), ROUND_HALF_EVEN))
