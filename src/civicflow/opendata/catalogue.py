"""The tables of the open data package and every column of them, in English and Chinese.

What is left out on purpose (``docs/opendata.md``, "Privacy"): who asked, backed,
attended or rated (residents), the details of a need (free text a resident wrote),
the ids of council members (opaque ids the embedding application may share with
its residents: seats are numbered instead), and any count of residents that is not
a figure of the views (they alone are protected against small groups).
"""

from __future__ import annotations

from civicflow.domain.kinds import AreaKind, Level, Role, Via
from civicflow.opendata.dictionary import Column, Reference, Table, column

KINDS = tuple(kind.value for kind in AreaKind)
ROLES = (*(role.value for role in Role), "member")
RESPONSIBLE = (*(f"council_{role}" for role in ROLES), "other")


def area_of(name: str, kind: str, zh: str) -> Column:
    return column(
        name,
        "string",
        (f"{kind.title()}", f"The {kind} the proposal's scope lay in when it was asked."),
        (zh, f"提出时议题范围所在的{zh}。"),
    )


def count(name: str, en: tuple[str, str], zh: tuple[str, str]) -> Column:
    return column(name, "integer", en, zh, minimum=0)


def rate(name: str, en: tuple[str, str], zh: tuple[str, str], *, share: bool = True) -> Column:
    """A rate of four places; a share of a whole lies between 0 and 1."""
    return column(name, "number", en, zh, minimum=0, maximum=1 if share else None)


def day(name: str, en: tuple[str, str], zh: tuple[str, str]) -> Column:
    return column(name, "date", en, zh)


SUPPRESSED = column(
    "suppressed",
    "boolean",
    (
        "Suppressed",
        "True when the figure is hidden: fewer than k residents are behind it, "
        "or it would give such a figure away; its numbers are then empty.",
    ),
    ("已隐去", "少于 k 位居民的数字，或可推算出此类数字的数字，予以隐去，其数值留空。"),
    required=True,
)
LEVEL = column(
    "level",
    "string",
    ("Level", "The kind of area the row is about: compound, community, street or district."),
    ("层级", "本行所属区域的层级：楼院、社区、街道或区。"),
    required=True,
    enum=KINDS,
)
AREA = column(
    "area_id",
    "string",
    ("Area", "The area's id (see areas.csv)."),
    ("区域", "区域编号（见 areas.csv）。"),
    required=True,
)
QUARTER = column(
    "quarter",
    "string",
    ("Quarter", "Calendar quarter in the district's time zone, like 2026Q3."),
    ("季度", "按区所在时区计的自然季度，如 2026Q3。"),
    required=True,
)
RATINGS = (
    count(
        Level.SATISFIED.value,
        ("Satisfied", "Residents whose latest rating was satisfied."),
        ("满意", "最近一次评价为满意的居民数。"),
    ),
    count(
        Level.BASICALLY_SATISFIED.value,
        ("Basically satisfied", "Residents whose latest rating was basically satisfied."),
        ("基本满意", "最近一次评价为基本满意的居民数。"),
    ),
    count(
        Level.DISSATISFIED.value,
        ("Dissatisfied", "Residents whose latest rating was dissatisfied."),
        ("不满意", "最近一次评价为不满意的居民数。"),
    ),
    count(
        "n",
        ("Ratings", "Ratings counted: each resident's latest."),
        ("评价数", "计入的评价数：每位居民取最近一次。"),
    ),
    rate(
        "rate",
        ("Satisfaction rate", "(satisfied + basically satisfied) / n, four places."),
        ("满意率", "（满意 + 基本满意）/ 评价数，保留四位小数。"),
    ),
    rate(
        "full_rate",
        ("Full satisfaction rate", "satisfied / n, four places."),
        ("完全满意率", "满意 / 评价数，保留四位小数。"),
    ),
)
TO_AREA = ("areas", ("id",))


def to_area(name: str) -> Reference:
    return Reference((name,), TO_AREA[0], TO_AREA[1])


AREAS = Table(
    "areas",
    "Areas",
    "Districts, streets, communities and compounds, as they stand at the export; areas named "
    "by a figure or proposal but never registered have no kind.",
    "区域",
    "导出时的区、街道、社区和楼院；只在数字或议题中出现而未登记的区域，层级留空。",
    (
        column("id", "string", ("Id", "The area's id."), ("编号", "区域编号。"), required=True),
        column(
            "kind",
            "string",
            ("Kind", "compound, community, street or district."),
            ("层级", "楼院、社区、街道或区。"),
            enum=KINDS,
        ),
        column(
            "name", "string", ("Name", "The area's name."), ("名称", "区域名称。"), free_text=True
        ),
        column(
            "parent_id", "string", ("Parent", "The area it lies in."), ("上级", "所属上级区域。")
        ),
        column(
            "is_old",
            "boolean",
            ("Old compound", "Whether the compound is an old one."),
            ("老旧楼院", "是否为老旧楼院。"),
        ),
        column(
            "has_property_management",
            "boolean",
            ("Property management", "Whether the compound has property management."),
            ("物业管理", "楼院是否有物业管理（无主楼院为否）。"),
        ),
        count(
            "households",
            ("Households", "Registered households of the compound."),
            ("户数", "楼院登记户数。"),
        ),
    ),
    ("id",),
    (Reference(("parent_id",), "", ("id",)),),
)

COUNCILS = Table(
    "councils",
    "Councils",
    "Party-masses councils, one per compound at a time, with their terms.",
    "党群议事会",
    "党群议事会，每个楼院同一时间一个，含其存续期间。",
    (
        column(
            "id",
            "string",
            ("Id", "compound id / council-N, N counting the compound's councils."),
            ("编号", "楼院编号/council-N，N 为该楼院第几届议事会。"),
            required=True,
        ),
        column(
            "compound_id",
            "string",
            ("Compound", "The compound the council deliberates for."),
            ("楼院", "议事会所在楼院。"),
            required=True,
        ),
        day("formed", ("Formed", "Day the council was formed."), ("成立日期", "议事会成立日期。")),
        day(
            "dissolved",
            ("Dissolved", "Day it was dissolved; empty while it sits."),
            ("解散日期", "解散日期；仍在运行则留空。"),
        ),
        count(
            "members",
            ("Members", "Members at the export, or when it was dissolved."),
            ("成员数", "导出时（已解散的为解散时）的成员人数。"),
        ),
    ),
    ("id",),
    (to_area("compound_id"),),
)

SEATS = Table(
    "council_members",
    "Council seats",
    "Each member's stint on a council, by seat number: council members hold a public office, "
    "but civicflow keeps only opaque ids for them, which are not published.",
    "议事会成员席位",
    "每位成员在议事会的任期，以席位编号表示：成员担任公职，但系统只存不公开的编号，故不予公布。",
    (
        column(
            "id",
            "string",
            ("Seat", "council id / member-N, in the order members joined."),
            ("席位", "议事会编号/member-N，按加入顺序编号。"),
            required=True,
        ),
        column(
            "council_id",
            "string",
            ("Council", "The council (see councils.csv)."),
            ("议事会", "所属议事会（见 councils.csv）。"),
            required=True,
        ),
        column(
            "role",
            "string",
            ("Role", "chair, secretary or member."),
            ("职务", "主任、秘书或成员。"),
            required=True,
            enum=ROLES,
        ),
        column(
            "via",
            "string",
            ("Via", "self_nomination, recommendation or election."),
            ("产生方式", "党员自荐、群众推荐或居民代表会议选举。"),
            enum=tuple(v.value for v in Via),
        ),
        day("start_date", ("Joined", "Day the member joined."), ("加入日期", "加入日期。")),
        day(
            "end_date",
            ("Left", "Day the member left; empty while sitting."),
            ("离任日期", "离任日期；在任则留空。"),
        ),
    ),
    ("id",),
    (Reference(("council_id",), "councils", ("id",)),),
)
