"""A store or a city that cannot be used, refused in Chinese: URLs, databases, city registries.

Issue 16: under ``--lang zh`` a ``ConfigurationError`` said its whole message in English
(``civicflow: sqlite URL needs a file path, as in sqlite:///civic.db``). Each refusal here
is met for real by a command; its line holds no English sentence (file names, URLs, hosts
and the words of tomllib stay as they are), and in English it says exactly what it said
before (``str(error)`` unchanged).
"""

from __future__ import annotations

import pickle
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from eventsourcing.persistence import OperationalError

from civicflow import BackendUnavailableError, ConfigurationError
from civicflow.audit import errors as audit_errors
from civicflow.cli import i18n
from civicflow.cli.errortext import describe
from civicflow.errors import reasons
from civicflow.errors.reasons import Reason, because
from civicflow.federation.notfound import not_found
from civicflow.storage.errors import storage_errors
from civicflow.storage.settings import env_from_url
from tests.conftest import POSTGRES_URL
from tests.test_cli import _clean_environment, civicflow, refusal
from tests.test_cli_lang_commands import chinese

GOOD = 'name = "Twin City"\n[districts.east]\narea = "d-east"\nstore = "sqlite:///east.db"\n'


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


def refused(line: str, english: str) -> str:
    """The refusal's line in Chinese, once the English one is ``civicflow: ENGLISH``."""
    assert refusal(civicflow(line)) == f"civicflow: {english}"
    return refusal(civicflow(f"{line} --lang zh"))


@pytest.mark.parametrize(
    ("db", "english", "said"),
    [
        ("sqlite://", "sqlite URL needs a file path, as in sqlite:///civic.db", "需要文件路径"),
        (
            "ftp://x",
            "unsupported store URL 'ftp://x': use memory://, sqlite:///path.db or "
            "postgresql://user@host:port/dbname",
            "不支持的存储地址 'ftp://x'",
        ),
        (
            "postgresql://postgres@127.0.0.1:99999/x",
            "the postgresql URL's port '99999' is not a number from 1 to 65535, as in "
            "postgresql://postgres@127.0.0.1:5432/civic",
            "端口 '99999'",
        ),
        (
            "postgresql:///x",
            "postgresql URL 'postgresql:///x' needs a host and a database, as in "
            "postgresql://postgres@127.0.0.1:5432/civic",
            "需要主机和数据库",
        ),
    ],
)
def test_a_store_url_that_cannot_be_used_is_refused_in_chinese(
    db: str, english: str, said: str
) -> None:
    assert said in chinese(refused(f"verify --db {db}", english))


def test_a_file_that_is_not_a_database_is_refused_in_chinese(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, only words " * 200)
    english = "the file is not a database (or is damaged): file is not a database"
    said = chinese(refused(f"verify --db sqlite:///{junk}", english))
    assert said == "civicflow: 该文件不是数据库（或已损坏）：文件不是数据库"


def test_a_store_not_there_names_its_file_in_chinese(tmp_path: Path) -> None:
    english = (
        f"no civicflow store at file {tmp_path / 'none.db'}: it does not exist (reading never "
        "creates a store; check --db, or write to it first)"
    )
    said = chinese(refused(f"verify --db sqlite:///{tmp_path / 'none.db'}", english))
    assert f"文件 {tmp_path / 'none.db'}" in said


@pytest.mark.usefixtures("postgres_available")
def test_a_postgresql_database_or_role_that_does_not_exist_is_refused_in_chinese() -> None:
    server = urlsplit(POSTGRES_URL)
    host = f"{server.hostname}:{server.port or 5432}"
    user = server.username or "postgres"
    missing = f"postgresql://{user}@{host}/civicflow_no_such_database"
    english = f'database "civicflow_no_such_database" does not exist at {host}'
    said = chinese(refused(f"verify --db {missing}", english))
    assert said == f"civicflow: {host} 上不存在数据库“civicflow_no_such_database”"
    nobody = f"postgresql://civicflow_no_such_role@{host}/{server.path.lstrip('/')}"
    english = f'role "civicflow_no_such_role" does not exist at {host}'
    assert "不存在角色" in chinese(refused(f"verify --db {nobody}", english))


CITIES = [
    ("[districts.east]\n", 'the city registry needs a name = "..."', "城市登记表需要"),
    ('name = "X"\n', "the city registry needs at least one [districts.NAME] table", "至少需要"),
    (
        'name = "X"\n[districts.east]\narea = "a"\nstore = "postgresql://u:secret@h/db"\n',
        "district east: the store URL holds a password; write ${VARIABLE} in its place and "
        "set VARIABLE in the environment",
        "区 east：存储地址中写有密码",
    ),
    (
        'name = "X"\n[districts.east]\narea = "a"\nstore = "sqlite:///e.db"\n'
        '[districts.west]\narea = "a"\nstore = "sqlite:///w.db"\n',
        "two districts of the city have the area 'a'",
        "两个区的区域都是 'a'",
    ),
    (
        'name = "X"\ncolor = 1\n[districts.east]\narea = "a"\nstore = "sqlite:///e.db"\n',
        "the city: unknown key color (allowed: districts, name, views)",
        "未知的键 color",
    ),
    (
        'name = "X"\n[districts.East]\narea = "a"\nstore = "sqlite:///e.db"\n',
        "district name 'East': use lower-case letters, digits, '-' and '_'",
        "区名 'East'",
    ),
    ('name = "X"\n[districts.east]\narea = "a"\n', 'district east needs store = "..."', "store ="),
    (
        'name = "X"\nviews = ""\n[districts.east]\narea = "a"\nstore = "sqlite:///e.db"\n',
        'the city views need a store URL: views = "..."',
        "城市视图需要存储地址",
    ),
]


@pytest.mark.parametrize(("text", "english", "said"), CITIES)
def test_a_city_registry_that_cannot_be_used_is_refused_in_chinese(
    tmp_path: Path, text: str, english: str, said: str
) -> None:
    city = tmp_path / "city.toml"
    city.write_text(text, encoding="utf-8")
    assert said in chinese(refused(f"verify --city {city}", english))


def test_a_city_registry_not_toml_or_missing_says_so_in_chinese(tmp_path: Path) -> None:
    city = tmp_path / "city.toml"
    city.write_text("name = \n", encoding="utf-8")
    with pytest.raises(tomllib.TOMLDecodeError) as raised:
        tomllib.loads(city.read_text(encoding="utf-8"))
    english = f"the city registry {city} is not TOML: {raised.value}"
    said = refused(f"verify --city {city}", english)
    frame, toml = said.split("：", 1)
    assert toml == str(raised.value)  # tomllib's words, as they are
    assert chinese(frame) == f"civicflow: 城市登记表 {city} 不是 TOML"
    missing = tmp_path / "none.toml"
    english = (
        f"cannot read the city registry {missing}: [Errno 2] No such file or directory: '{missing}'"
    )
    said = chinese(refused(f"verify --city {missing}", english))
    assert (
        said
        == f"civicflow: 无法读取城市登记表 {missing}：[Errno 2] 没有那个文件或目录：'{missing}'"
    )


def test_a_variable_the_city_needs_and_lacks_is_named_in_chinese(tmp_path: Path) -> None:
    city = tmp_path / "city.toml"
    store = "postgresql://u:${NO_SUCH_VARIABLE}@127.0.0.1:5432/d"
    city.write_text(
        f'name = "X"\n[districts.east]\narea = "a"\nstore = "{store}"\n', encoding="utf-8"
    )
    english = (
        "district east: the store URL needs ${NO_SUCH_VARIABLE}, which is not set in the "
        "environment"
    )
    said = chinese(refused(f"verify --city {city} --district east", english))
    assert said == "civicflow: 区 east：存储地址需要 ${NO_SUCH_VARIABLE}，但环境中没有设置它"


def test_a_city_that_cannot_route_a_command_says_why_in_chinese(tmp_path: Path) -> None:
    city = tmp_path / "city.toml"
    city.write_text(GOOD, encoding="utf-8")
    english = "the city has no district 'north' (it has east)"
    said = chinese(refused(f"verify --city {city} --district north", english))
    assert said == "civicflow: 城市没有区 'north'（现有：east）"
    english = (
        "--city: this command names no proposal, area or resident to find its district by; "
        "add --district (one of east)"
    )
    assert "请加上 --district" in chinese(refused(f"verify --city {city}", english))
    english = "no area 'k-nowhere' is registered at that time; no district of Twin City has it"
    line = f"area rename k-nowhere --name X --actor o --city {city}"
    assert "Twin City 没有哪个区有它" in refused(f"{line}", english)


def test_a_configuration_error_keeps_its_reason_and_its_english() -> None:
    with pytest.raises(ConfigurationError) as raised:
        env_from_url("sqlite://")
    error = raised.value
    assert str(error) == "sqlite URL needs a file path, as in sqlite:///civic.db"
    template, parameters = error.filled
    assert template == "{message}"
    assert isinstance(parameters["message"], Reason)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert str(copy) == str(error)
    assert copy.filled[1]["message"].template == parameters["message"].template
    plain = ConfigurationError("a message of its own")
    assert plain.filled == ("{message}", {"message": "a message of its own"})


def test_the_reasons_live_in_the_lowest_layer_and_are_the_audits_too() -> None:
    assert audit_errors.Reason is reasons.Reason is Reason
    assert audit_errors.because is because
    old = pickle.loads(pickle.dumps(because("size {n}", n=3)))  # noqa: S301 - our own bytes
    assert (old, old.template, old.parameters) == ("size 3", "size {n}", {"n": 3})


def test_what_the_store_was_doing_when_it_failed_is_said_in_chinese() -> None:
    """``the database failed while {doing}``: each doing the library passes, and a
    district the city could not read, in the language."""
    i18n.use("zh")
    try:
        for doing in ("reading the log", "following the log", "reading the position"):
            with pytest.raises(BackendUnavailableError) as raised, storage_errors(doing):
                raise OperationalError("server closed the connection unexpectedly")
            said = describe(raised.value)
            assert said.startswith("数据库在")
            assert "server closed" in said
        unreachable = not_found("Twin City", "area", "c-1", ["east", "west"])
        assert isinstance(unreachable, BackendUnavailableError)
        chinese(describe(unreachable))
        assert str(unreachable).startswith("area c-1 is in no district that could be read")
    finally:
        i18n.use("en")
