"""The project's fixtures (``tests/conftest.py``) for the web example's tests.

``pytest_plugins`` is only allowed in the root conftest, so the fixtures are imported:
a fixture is found through the conftest module that holds it.
"""

from tests.conftest import (  # noqa: F401 (fixtures are used by name)
    durable_url,
    postgres_available,
    postgres_url,
    sqlite_url,
)
