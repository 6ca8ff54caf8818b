"""The tables of the work itself: proposals, and their rounds with how residents rated them."""

from __future__ import annotations

from civicflow.domain.kinds import Outcome
from civicflow.domain.lifecycle import Stage, Verdict
from civicflow.opendata.catalogue import (
    RATINGS,
    RESPONSIBLE,
    SUPPRESSED,
    area_of,
    count,
    day,
    to_area,
)
from civicflow.opendata.dictionary import Column, Reference, Table, column


def _money(name: str, en: tuple[str, str], zh: tuple[str, str]) -> Column:
    return column(name, "number", en, zh, minimum=0)


PROPOSALS = Table(
    "proposals",
    "Proposals",
    "Every need raised, one row each, with its stage, its dates, and planned against actual "
    "spending. Who asked, backed or attended is not published, nor the details of the need.",
    "议题",
    "每项提出的需求一行：所处阶段、各步骤日期、预算与实际支出。不公布提出人、附议人、参会人及需求详情。",
    (
        column(
            "id",
            "string",
            ("Id", "The proposal's id (a UUID)."),
            ("编号", "议题编号（UUID）。"),
            required=True,
        ),
        column(
            "title",
            "string",
            ("Title", "The need, in a few words."),
            ("标题", "需求标题。"),
            required=True,
            free_text=True,
        ),
        column(
            "category",
            "string",
            ("Category", "What kind of work: lighting, drainage..."),
            ("类别", "工作类别：照明、排水等。"),
            required=True,
            free_text=True,
        ),
        column(
            "scope_id",
            "string",
            ("Scope", "The area the need is about (see areas.csv)."),
            ("范围", "需求涉及的区域（见 areas.csv）。"),
            required=True,
        ),
        area_of("compound", "compound", "楼院"),
        area_of("community", "community", "社区"),
        area_of("street", "street", "街道"),
        area_of("district", "district", "区"),
        column(
            "stage",
            "string",
            ("Stage", "asked, discussing, doing, done, rating, rejected, closed or withdrawn."),
            ("阶段", "已提出、议事中、办理中、已办结、评价中、未通过、已结项或已撤回。"),
            required=True,
            enum=tuple(s.value for s in Stage),
        ),
        day(
            "asked_date",
            ("Asked", "Day the need was raised (问)."),
            ("提出日期", "需求提出日期（问）。"),
        ),
        day(
            "decided_date",
            ("Decided", "Day of the latest decision (定)."),
            ("决定日期", "最近一次决定日期（定）。"),
        ),
        column(
            "outcome",
            "string",
            ("Outcome", "approved, rejected or deferred."),
            ("决定结果", "通过、不予立项或暂缓。"),
            enum=tuple(o.value for o in Outcome),
        ),
        count(
            "votes_in_favour",
            ("In favour", "Council votes for the latest decision."),
            ("赞成票", "最近一次决定的议事会赞成票数。"),
        ),
        count("votes_against", ("Against", "Council votes against it."), ("反对票", "反对票数。")),
        count(
            "votes_abstain",
            ("Abstentions", "Council members who abstained."),
            ("弃权票", "弃权票数。"),
        ),
        day(
            "deadline",
            ("Deadline", "Day the approved work is due."),
            ("办结期限", "批准工作的完成期限。"),
        ),
        day(
            "done_date",
            ("Done", "Day the latest round of work was completed (办)."),
            ("办结日期", "最近一轮工作完成日期（办）。"),
        ),
        day(
            "published_date",
            ("Published", "Day of the latest publication (晒)."),
            ("公示日期", "最近一次公示日期（晒）。"),
        ),
        _money(
            "planned_budget",
            ("Planned budget", "Amount approved with the plan."),
            ("预算", "决定批准的预算金额。"),
        ),
        column(
            "currency",
            "string",
            ("Currency", "ISO 4217 code of the budget, like CNY."),
            ("币种", "预算币种代码，如 CNY。"),
        ),
        _money(
            "total_spent",
            ("Total spent", "Money spent so far, as last reported or completed."),
            ("实际支出", "最近一次报告或办结时的累计支出。"),
        ),
        column(
            "funding_sources",
            "string",
            ("Funding", "Where the money comes from, separated by '; '."),
            ("资金来源", "资金来源，以“; ”分隔。"),
            free_text=True,
        ),
        column(
            "responsible_role",
            "string",
            (
                "Responsible",
                "Who answers for the work: a council office (chair, secretary, "
                "member) held at the decision, or other (not published further).",
            ),
            ("责任人", "负责人：决定时在议事会的职务（主任、秘书、成员），或其他（不再公开）。"),
            enum=RESPONSIBLE,
        ),
        column(
            "responsible_seat",
            "string",
            (
                "Responsible seat",
                "The council seat of the responsible member (council_members.csv).",
            ),
            ("责任席位", "负责人的议事会席位（见 council_members.csv）。"),
        ),
        count(
            "rounds",
            ("Rounds", "Do-Publish-Rate rounds so far (rectification adds one)."),
            ("轮次", "已进行的办-晒-评轮次（整改加一轮）。"),
        ),
    ),
    ("id",),
    (
        to_area("scope_id"),
        *(to_area(name) for name in ("compound", "community", "street", "district")),
        Reference(("responsible_seat",), "council_members", ("id",)),
    ),
)

ROUNDS = Table(
    "rounds",
    "Rounds and satisfaction",
    "Each published round of each approved proposal, with residents' satisfaction as the views "
    "count it (all quarters of the round together). Counts of zero are shown.",
    "轮次与满意度",
    "每项批准议题的每一轮公示，及居民满意度（按统计视图计，整轮合计）。零值照常公布。",
    (
        column(
            "proposal_id",
            "string",
            ("Proposal", "The proposal (see proposals.csv)."),
            ("议题", "所属议题（见 proposals.csv）。"),
            required=True,
        ),
        count(
            "round",
            ("Round", "1 for the first, 2 after one rectification..."),
            ("轮次", "第 1 轮，整改后为第 2 轮……"),
        ),
        day(
            "published_date",
            ("Published", "Day the round's result was published."),
            ("公示日期", "本轮结果公示日期。"),
        ),
        day(
            "closed_date",
            ("Closed", "Day rating closed; empty while open."),
            ("评价结束日期", "评价结束日期；尚未结束则留空。"),
        ),
        column(
            "verdict",
            "string",
            (
                "Verdict",
                "passed, or rectify (back to Do); empty while open, and empty when the "
                "round's figure is suppressed (the verdict follows from its counts).",
            ),
            (
                "结论",
                "满意结项，或整改；尚未结束则留空；本轮数字已隐去时亦留空（结论可据其推算）。",
            ),
            enum=tuple(v.value for v in Verdict),
        ),
        SUPPRESSED,
        *RATINGS,
    ),
    ("proposal_id", "round"),
    (Reference(("proposal_id",), "proposals", ("id",)),),
)
