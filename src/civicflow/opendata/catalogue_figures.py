"""The tables of figures per area and quarter: satisfaction and participation, as the views
give them (suppressed ones with their numbers empty)."""

from __future__ import annotations

from civicflow.opendata.catalogue import (
    AREA,
    LEVEL,
    QUARTER,
    RATINGS,
    SUPPRESSED,
    count,
    rate,
    to_area,
)
from civicflow.opendata.dictionary import Table

SATISFACTION = Table(
    "satisfaction",
    "Satisfaction per area and quarter",
    "Residents' ratings of finished work, per area at each level and per quarter: each "
    "resident's latest rating in a round counts.",
    "各区域各季度满意度",
    "居民对办结工作的评价，按各层级区域和季度统计：每位居民每轮取最近一次评价。",
    (LEVEL, AREA, QUARTER, SUPPRESSED, *RATINGS),
    ("level", "area_id", "quarter"),
    (to_area("area_id"),),
)

PARTICIPATION = Table(
    "participation",
    "Participation per area and quarter",
    "Distinct residents taking part, per area at each level and per quarter, against "
    "registered residents and households; council coverage beside them.",
    "各区域各季度参与度",
    "按各层级区域和季度统计的参与居民（不重复计），对照登记居民和户数；并列议事会覆盖率。",
    (
        LEVEL,
        AREA,
        QUARTER,
        SUPPRESSED,
        count(
            "asked_or_backed",
            ("Asked or backed", "Residents who raised or backed a need."),
            ("提出/附议", "提出或附议需求的居民数。"),
        ),
        count(
            "discussed",
            ("Discussed", "Residents (not council members) at a council session."),
            ("议事", "参加议事会会议的居民数（不含议事会成员）。"),
        ),
        count(
            "rated", ("Rated", "Residents who rated finished work."), ("评价", "参与评价的居民数。")
        ),
        count(
            "participants",
            ("Participants", "Residents who did any of these."),
            ("参与人数", "参与上述任一项的居民数。"),
        ),
        count(
            "residents",
            ("Registered residents", "Registered at the quarter's end."),
            ("登记居民数", "季度末登记的居民数。"),
        ),
        count(
            "households",
            ("Households", "Registered households at the quarter's end."),
            ("登记户数", "季度末登记的户数。"),
        ),
        rate(
            "rate",
            (
                "Participation rate",
                "participants / registered residents; above 1 when residents who took part "
                "moved out, or were never registered, by the quarter's end.",
            ),
            ("参与率", "参与人数 / 登记居民数；季度末前迁出或未登记的参与者可使其大于 1。"),
            share=False,
        ),
        rate(
            "household_rate",
            ("Per household", "participants / registered households (may exceed 1)."),
            ("户均参与率", "参与人数 / 登记户数（可大于 1）。"),
            share=False,
        ),
        count(
            "compounds",
            ("Compounds", "Compounds in the area at the quarter's end."),
            ("楼院数", "季度末区域内楼院数。"),
        ),
        count(
            "compounds_with_council",
            ("With a council", "Of those, compounds with a council."),
            ("有议事会楼院数", "其中有议事会的楼院数。"),
        ),
        rate(
            "council_coverage",
            ("Council coverage", "compounds with a council / compounds."),
            ("议事会覆盖率", "有议事会的楼院数 / 楼院数。"),
        ),
    ),
    ("level", "area_id", "quarter"),
    (to_area("area_id"),),
)
