"""``--help`` that answers: every option says what it is, required ones say so, examples.

The command modules declare their options; this module finishes the parser once it is
built: an option without help gets its text from ``OPTIONS`` (by command and option)
or ``SHARED`` (one meaning everywhere: ``proposal``, ``--at``...), a required option's
help starts with ``required:``, and every command's help ends with examples
(``EXAMPLES``), each of which parses (tests/test_cli_help.py walks the parser).

``--as-of`` reads three clocks, so each command's help says which: what the store had
**recorded** by then (history, replay, views), the structure as it **stood** then
(area list, council show, policy show), or, for ``views pipeline``, the **day** whose
overdue work is listed.

In another language the placeholders of values (``PROPOSAL``, ``--at MOMENT``) are said
in it too, one word each (``pgettext("metavar", ...)``); the values a user picks from
(``{satisfied,...}``, the commands) stay as typed, and the help says what each means.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from civicflow.cli.i18n import _, language, pgettext

REQUIRED = "required: "
RECORDED = "recording time: only what the store had recorded by this moment (not --at)"
STOOD = "time in the world: the structure as it stood at this moment (changes take effect --at)"
SHARED = {
    "proposal": "the proposal's id (ask prints it; views review --json lists them)",
    "--at": "when it happened: ISO 8601 with a time zone, e.g. 2026-03-05T20:00:00+08:00; "
    "default now",
    "--resident": "the resident's opaque id",
    "compound": "the compound's area id",
    "area": "the area's id (districts, streets, communities, compounds)",
    "resident": "the resident's opaque id",
    "id": "the subscription's id (webhooks list shows them)",
    "--k": "hide figures from fewer than K residents (default 5)",
}
OPTIONS = {
    ("ask", "--title"): "a short title of the need",
    ("ask", "--details"): "what the need is",
    ("ask", "--category"): "free text such as lighting, to group proposals",
    ("ask", "--channel"): "how the need reached the community (default visit)",
    ("back", "--resident"): "who backs it: a resident of the scope, not the one who asked",
    ("discuss", "--summary"): "what was discussed",
    ("decide", "--outcome"): "approved (work starts), rejected (to be published) or deferred",
    ("decide", "--for"): "votes in favour",
    ("decide", "--against"): "votes against (default 0)",
    ("decide", "--abstain"): "abstentions (default 0)",
    ("decide", "--plan"): "approval: what will be done",
    ("decide", "--budget"): "approval: the budget, a decimal such as 3600 or 3600.50",
    ("decide", "--currency"): "the budget's currency (default CNY)",
    ("decide", "--responsible"): "approval: who answers for the work",
    ("decide", "--deadline"): "approval: the day it must be done by, like 2026-09-30",
    ("decide", "--reasons"): "a rejection's reasons (required to reject), or a deferral's",
    ("progress", "--percent"): "how far the work is, 0 to 100 (never lower than before)",
    ("progress", "--note"): "what was done so far",
    ("progress", "--spent"): "the money spent so far, in total",
    ("complete", "--summary"): "what was done",
    ("complete", "--total-spent"): "the money spent in this round, in total",
    ("publish", "--channel"): "where it was shown; repeat for each",
    ("publish", "--summary"): "what was shown",
    ("rate", "--resident"): "who rates: a resident of the scope (their latest rating counts)",
    ("rate", "--level"): "satisfied, basically_satisfied or dissatisfied",
    ("rate", "--comment"): "what the resident said",
    ("withdraw", "--reason"): "why it is abandoned",
    ("show", "--version"): "the proposal as it was at this version (1 is the ask)",
    ("area add", "--kind"): "district, street, community or compound",
    ("area add", "--name"): "its name",
    ("area add", "--parent"): "the area it lies in (none for a district)",
    ("area add", "--old"): "an old compound (--no-old: not old)",
    ("area add", "--households"): "a compound's registered households",
    ("area add", "--time-zone"): "a district's time zone for quarters (default Asia/Shanghai)",
    ("area rename", "--name"): "the new name",
    ("area move", "--community"): "the community it belongs to from --at on",
    ("area households", "--count"): "registered households from --at on",
    ("area list", "--kind"): "only areas of this kind",
    ("area list", "--within"): "only areas within this one",
    ("area list", "--as-of"): STOOD,
    ("council join", "--member"): "who takes the seat (an opaque id)",
    ("council join", "--via"): "how they came to it",
    ("council join", "--role"): "their role, if any",
    ("council leave", "--member"): "whose seat ends",
    ("council show", "--as-of"): STOOD,
    ("resident register", "residents"): "the residents' opaque ids, one or more",
    ("resident register", "--compound"): "the compound they live in",
    ("resident move", "--compound"): "the compound they live in from --at on",
    ("policy set", "--majority"): "the vote a decision needs",
    ("policy show", "--as-of"): STOOD,
    ("policy sponsor", "--sponsor"): "the cadre or department (an opaque id)",
    ("views", "view"): "the figures to show: satisfaction, participation, pipeline or review",
    ("views", "--as-of"): RECORDED + "; for pipeline: the day whose overdue work is listed",
    ("history", "--as-of"): RECORDED,
    ("replay", "--as-of"): RECORDED,
    ("demo", "--seed"): "the seed of the simulation (default 7): the same seed, the same district",
    ("report", "--out"): "the HTML file to write",
    ("export", "--out"): "the file to write: the events (JSON Lines), or a view with --view (CSV)",
    ("export", "--view"): "write this view as CSV instead of the events",
    ("export", "--level"): "with --view: the areas the figures are of (default community)",
    ("import", "file"): "the events export to check and load (JSON Lines)",
    ("webhooks add", "url"): "the receiver's URL (https://...)",
}
P = "5c1d0a4e-6f0b-4a55-9d2e-0b1f7f1e8a21"  # a proposal id, for the examples
AT = "--at 2026-03-05T20:00:00+08:00"
EXAMPLES = {
    "ask": f"ask --title 'Fix the stairwell lights' --details 'Dark at night' "
    f"--category lighting --area hongqi-7 --resident r-1 {AT}",
    "back": f"back {P} --resident r-2",
    "discuss": f"discuss {P} --attendee m-1 --attendee m-2 --attendee r-1 "
    "--summary 'LEDs preferred' --actor m-1",
    "decide": f"decide {P} --outcome approved --for 2 --plan '12 LED fittings' --budget 3600 "
    "--funding 'district fund' --responsible m-2 --deadline 2026-03-31 --actor m-1",
    "progress": f"progress {P} --percent 50 --note 'half the floors' --spent 1800 --actor m-2",
    "complete": f"complete {P} --summary 'Lights installed' --total-spent 3450 "
    "--evidence photo:after.jpg --actor m-2",
    "publish": f"publish {P} --channel notice_board --summary 'Lights are on' --actor m-1",
    "rate": f"rate {P} --resident r-3 --level satisfied",
    "close-rating": f"close-rating {P} --actor m-1",
    "withdraw": f"withdraw {P} --reason 'fixed by the owner' --actor m-1",
    "show": f"show {P} --version 3",
    "area add": "area add hongqi-7 --kind compound --name 'Hongqi Building 7' --parent hongqi "
    "--old --no-managed --households 96 --actor office",
    "area rename": "area rename hongqi-7 --name 'Hongqi Court 7' --actor office",
    "area move": "area move hongqi-7 --community baizhuang-2 --actor office",
    "area households": "area households hongqi-7 --count 98 --actor office",
    "area list": "area list --kind compound --within hongqi --as-of 2026-01-01T00:00:00+08:00",
    "council form": "council form hongqi-7 --actor office",
    "council dissolve": "council dissolve hongqi-7 --actor office",
    "council join": "council join hongqi-7 --member m-1 --via election --role chair --actor office",
    "council leave": "council leave hongqi-7 --member m-3 --actor office",
    "council show": "council show hongqi-7",
    "resident register": "resident register r-1 r-2 r-3 --compound hongqi-7 --actor office",
    "resident move": "resident move r-1 --compound hongqi-8 --actor office",
    "resident move-out": "resident move-out r-1 --actor office",
    "resident show": "resident show r-1",
    "policy set": "policy set shanyang --threshold 0.8 --window-days 30 --actor office",
    "policy show": "policy show hongqi-7",
    "policy sponsor": "policy sponsor hongqi --sponsor cadre-12 --kind cadre --actor office",
    "views": "views satisfaction --level compound --quarter 2026Q3",
    "history": f"history {P} --lang zh",
    "replay": f"replay {P} --as-of 2026-04-01T00:00:00+08:00",
    "checkpoint": "checkpoint --actor office",
    "rebuild": "rebuild --db sqlite:///civic.db",
    "demo": "demo --compounds 20",
    "report": "report --quarter 2026Q3 --out review.html",
    "export": "export --out events.jsonl",
    "import": "import events.jsonl --db sqlite:///copy.db",
    "verify": "verify --log-key civic.db.keys/signing.pub --feed civic.db.keys/feed.jsonl",
    "receipt": f"receipt {P} --out receipt.json",
    "check-receipt": "check-receipt receipt.json --log-key signing.pub",
    "witness init": "witness init --dir witness --name witness.example.org",
    "witness cosign": "witness cosign --dir witness --log-key signing.pub --head head.note",
    "consistency": "consistency --from 10",
    "serve": "serve --port 8000",
    "webhooks add": "webhooks add https://example.org/hook --area hongqi",
    "webhooks list": "webhooks list",
    "webhooks remove": "webhooks remove sub-1",
    "webhooks pause": "webhooks pause sub-1",
    "webhooks resume": "webhooks resume sub-1",
    "webhooks relay": "webhooks relay --once",
    "completion": "completion bash > ~/.local/share/bash-completion/completions/civicflow",
}
MORE = {
    "views": [
        "views review --quarter 2026Q3 --level street",
        "views pipeline --as-of 2026-09-30T00:00:00+08:00",
    ],
    "export": ["export --view satisfaction --quarter 2026Q3 --out satisfaction.csv"],
    "completion": [
        "completion zsh > ~/.zfunc/_civicflow",
        "completion fish > ~/.config/fish/completions/civicflow.fish",
    ],
}


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command that runs (``area add``, not ``area``), with its parser."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups and path:
        yield " ".join(path), parser
    for group in groups:
        for name, sub in group.choices.items():
            yield from commands(sub, (*path, name))


def _describe(parser: argparse.ArgumentParser) -> None:
    """A command's ``--help`` opens with the line ``civicflow GROUP --help`` lists it with."""
    for group in parser._actions:
        if isinstance(group, argparse._SubParsersAction):
            for choice in group._choices_actions:
                sub = group.choices[choice.dest]
                sub.description = sub.description or choice.help
                _describe(sub)


def finish(parser: argparse.ArgumentParser) -> None:
    """Give every option its help, mark the required ones, add each command's examples."""
    _describe(parser)
    for name, command in commands(parser):
        for action in command._actions:
            if action.help == argparse.SUPPRESS or action.dest == "help":
                continue
            key = action.option_strings[0] if action.option_strings else action.dest
            text = OPTIONS.get((name, key)) or action.help or SHARED.get(key)
            required = action.required and action.option_strings and text is not None
            if required and not str(text).startswith("required"):
                text = f"{REQUIRED}{text}"
            action.help = text
            if key == "--at":
                action.metavar = "MOMENT"
            if key == "--as-of":
                action.metavar = (
                    "RECORDED" if OPTIONS.get((name, key), "")[:9] == "recording" else "MOMENT"
                )
        examples = [_(line) for line in _examples(name)]
        if examples:
            lines = "".join(f"  civicflow {line}\n" for line in examples)
            command.epilog = _("examples:") + "\n" + lines
            command.formatter_class = argparse.RawDescriptionHelpFormatter
    _speak(parser)


def _examples(name: str) -> list[str]:
    return [EXAMPLES[name], *MORE.get(name, [])] if name in EXAMPLES else []


def _said(text: str) -> str:
    """A help text in the command's language (``required:`` said apart from the rest)."""
    if text.startswith(REQUIRED):
        return _("required: {text}").format(text=_(text.removeprefix(REQUIRED)))
    return _(text)


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for group in parser._actions:
        if isinstance(group, argparse._SubParsersAction):
            for sub in group.choices.values():
                yield from _parsers(sub)


def _speak(parser: argparse.ArgumentParser) -> None:
    """Every description, help and placeholder of the parser in the command's language."""
    for each in _parsers(parser):
        each.description = each.description and _(each.description)
        for action in [*each._actions, *_listed(each)]:
            if action.help and action.help != argparse.SUPPRESS:
                action.help = _said(action.help)
        if language() != "en":
            _placeholders(each)


def _placeholders(parser: argparse.ArgumentParser) -> None:
    """The placeholders in the language, and the help measured in terminal columns."""
    from civicflow.cli.argtext import Wide, WideRaw

    raw = parser.formatter_class is argparse.RawDescriptionHelpFormatter
    parser.formatter_class = WideRaw if raw else Wide
    for action in parser._actions:
        shown = _placeholder(action)
        action.metavar = pgettext("metavar", shown) if shown else action.metavar


def _placeholder(action: argparse.Action) -> str | None:
    """The word ``--help`` shows for the action's value, unless it shows the choices."""
    if action.nargs in (0, argparse.REMAINDER) or isinstance(action.metavar, tuple):
        return None
    if action.metavar is None and action.choices is not None:
        return None  # the values themselves, as typed
    return action.metavar or (action.dest.upper() if action.option_strings else action.dest)


def placeholders(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every placeholder ``--help`` shows, for the catalog (built in English)."""
    for each in _parsers(parser):
        yield from filter(None, map(_placeholder, each._actions))


def _listed(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The lines that list a group's commands (``civicflow area --help``)."""
    return [
        choice
        for group in parser._actions
        if isinstance(group, argparse._SubParsersAction)
        for choice in group._choices_actions
    ]


def texts(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every English text the help of ``parser`` shows, for the catalog (built in English)."""
    for each in _parsers(parser):
        yield from [each.description or ""]
        for action in [*each._actions, *_listed(each)]:
            if action.help and action.help != argparse.SUPPRESS:
                yield action.help.removeprefix(REQUIRED)
    for name, _command in commands(parser):  # an example's words, not its ids and numbers
        yield from (line for line in _examples(name) if "'" in line)


__all__ = ["EXAMPLES", "commands", "finish", "placeholders", "texts"]
