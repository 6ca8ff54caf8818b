"""The Chinese label of every enum value: one dict per enum, checked complete at import.

The command line (``--lang zh``), the audit trail and the HTML report read their labels
here; nothing else restates them. Adding a member to an enum without its label here
fails at import, not in front of a resident.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from civicflow.domain.kinds import (
    AreaKind,
    Channel,
    Level,
    Majority,
    Outcome,
    PublicationChannel,
    Role,
    SponsorKind,
    Via,
)
from civicflow.domain.lifecycle import Stage, Step, Verdict

CHANNEL: Mapping[Channel, str] = {
    Channel.VISIT: "走访",
    Channel.MEETING: "会议",
    Channel.HOTLINE: "热线",
    Channel.ONLINE: "网上",
    Channel.OTHER: "其他渠道",
}
OUTCOME: Mapping[Outcome, str] = {
    Outcome.APPROVED: "通过",
    Outcome.REJECTED: "不予立项",
    Outcome.DEFERRED: "暂缓",
}
PUBLICATION_CHANNEL: Mapping[PublicationChannel, str] = {
    PublicationChannel.NOTICE_BOARD: "公示栏",
    PublicationChannel.GROUP_CHAT: "群聊",
    PublicationChannel.APP: "应用",
    PublicationChannel.MEETING: "会议",
    PublicationChannel.OTHER: "其他",
}
LEVEL: Mapping[Level, str] = {
    Level.SATISFIED: "满意",
    Level.BASICALLY_SATISFIED: "基本满意",
    Level.DISSATISFIED: "不满意",
}
STAGE: Mapping[Stage, str] = {
    Stage.ASKED: "已提出",
    Stage.DISCUSSING: "议事中",
    Stage.DOING: "办理中",
    Stage.DONE: "已办结",
    Stage.RATING: "评价中",
    Stage.REJECTED: "未通过",
    Stage.CLOSED: "已结项",
    Stage.WITHDRAWN: "已撤回",
}
VERDICT: Mapping[Verdict, str] = {
    Verdict.PASSED: "满意，结项",
    Verdict.RECTIFY: "整改",
}
STEP: Mapping[Step, str] = {
    Step.ASK: "问",
    Step.BACK: "附议",
    Step.DISCUSS: "议",
    Step.DECIDE: "定",
    Step.REPORT_PROGRESS: "报告进度",
    Step.COMPLETE: "办结",
    Step.PUBLISH: "晒",
    Step.RATE: "评",
    Step.CLOSE_RATING: "结束评价",
    Step.WITHDRAW: "撤回",
}
AREA_KIND: Mapping[AreaKind, str] = {
    AreaKind.DISTRICT: "区",
    AreaKind.STREET: "街道",
    AreaKind.COMMUNITY: "社区",
    AreaKind.COMPOUND: "楼院",
}
VIA: Mapping[Via, str] = {
    Via.SELF_NOMINATION: "自荐",
    Via.RECOMMENDATION: "推荐",
    Via.ELECTION: "选举",
}
ROLE: Mapping[Role, str] = {
    Role.CHAIR: "召集人",
    Role.SECRETARY: "书记员",
}
SPONSOR_KIND: Mapping[SponsorKind, str] = {
    SponsorKind.CADRE: "干部",
    SponsorKind.DEPARTMENT: "部门",
}
MAJORITY: Mapping[Majority, str] = {
    Majority.SIMPLE: "简单多数",
    Majority.ABSOLUTE: "过半数",
    Majority.TWO_THIRDS: "三分之二多数",
}

# Keyed by enum class; a mapping's key type is invariant, hence Any for the members.
ZH: Mapping[type[StrEnum], Mapping[Any, str]] = {
    Channel: CHANNEL,
    Outcome: OUTCOME,
    PublicationChannel: PUBLICATION_CHANNEL,
    Level: LEVEL,
    Stage: STAGE,
    Step: STEP,
    Verdict: VERDICT,
    AreaKind: AREA_KIND,
    Via: VIA,
    Role: ROLE,
    SponsorKind: SPONSOR_KIND,
    Majority: MAJORITY,
}


def unlabelled() -> list[str]:
    """The enum members that have no Chinese label (or one that is blank)."""
    return [
        f"{kind.__name__}.{member.name}"
        for kind, labels in ZH.items()
        for member in kind
        if not labels.get(member, "").strip()
    ]


if missing := unlabelled():  # a definition error: refuse to run with a hole in the labels
    raise LookupError(f"civicflow.domain.vocabulary has no Chinese label for {', '.join(missing)}")

__all__ = [
    "AREA_KIND",
    "CHANNEL",
    "LEVEL",
    "MAJORITY",
    "OUTCOME",
    "PUBLICATION_CHANNEL",
    "ROLE",
    "SPONSOR_KIND",
    "STAGE",
    "STEP",
    "VERDICT",
    "VIA",
    "ZH",
    "unlabelled",
]
