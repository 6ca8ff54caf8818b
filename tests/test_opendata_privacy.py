"""On random community lives, the package publishes the views' figures and nothing more.

The random life is the one the views' property tests run (``test_views_properties``):
residents who move, compounds reassigned, councils formed and dissolved, rules on
and off. For each history, the package's figures must be exactly the views'
protected ones, no resident id may appear in any file, and the interval attack of
``tests/attack.py``, reading the published CSV tables alone, must narrow no small
hidden figure.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

from frictionless import validate
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from civicflow.domain.kinds import AreaKind
from civicflow.opendata import export_open_data
from civicflow.views import Views
from tests.attack import (
    Attack,
    _participation,
    _satisfaction,
    narrowed,
    participation_cells,
    rating_cells,
)
from tests.opendata import assert_figures_are_the_views, resident_ids_in, table
from tests.test_views_properties import RESIDENTS, SETUPS, VISITORS, Setup, history

LIVES = settings(
    max_examples=5,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a history takes seconds to shrink
    suppress_health_check=[HealthCheck.too_slow],
)


def attacked(views: Views, folder: Path, k: int) -> list[str]:
    """What the interval attack narrows, reading the package's CSV tables alone."""
    attack = Attack()
    raters = rating_cells(attack, views)
    counts = participation_cells(attack, views)
    for row in table(folder, "satisfaction"):
        figure = SimpleNamespace(
            proposal_id=None,
            level=AreaKind(row["level"]),
            area_id=row["area_id"],
            quarter=row["quarter"],
        )
        _satisfaction(attack, "satisfaction", figure, row)
    for row in table(folder, "rounds"):
        figure = SimpleNamespace(
            proposal_id=row["proposal_id"], round=int(row["round"]), quarter=None
        )
        _satisfaction(attack, "rounds", figure, row)
    for row in table(folder, "participation"):
        figure = SimpleNamespace(
            level=AreaKind(row["level"]),
            area_id=row["area_id"],
            quarter=row["quarter"],
            suppressed=row["suppressed"] == "true",
        )
        _participation(attack, figure, row)
    return narrowed(attack, raters, counts, k)


@LIVES
@given(setup=SETUPS, seed=st.integers(0, 2**32 - 1), k=st.sampled_from([2, 3, 5]))
def test_the_package_is_valid_holds_the_views_figures_and_no_resident(
    setup: Setup, seed: int, k: int
) -> None:
    life, genes = history(setup, seed, 200)
    life.run(genes)
    with Views(life.flow, k=k) as views, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "package"
        export_open_data(life.flow, folder, k=k, views=views)
        assert_figures_are_the_views(folder, views, None)
        assert resident_ids_in(folder, (*RESIDENTS, *VISITORS)) == []
        report = validate(str(folder / "datapackage.json"))  # rules off too: unknown areas
        assert report.valid, report.flatten(["resourceName", "rowNumber", "type", "note"])


@settings(LIVES, max_examples=3)
@given(setup=SETUPS, seed=st.integers(0, 2**32 - 1), k=st.sampled_from([3, 5]))
def test_the_interval_attack_on_the_published_tables_narrows_no_small_figure(
    setup: Setup, seed: int, k: int
) -> None:
    life, genes = history(setup, seed, 160)
    life.run(genes)
    with Views(life.flow, k=k) as views, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "package"
        export_open_data(life.flow, folder, k=k, views=views)
        assert attacked(views, folder, k) == []
