"""Shared fixtures. Each test gets its own per-user directories, so none touches the real ~/.local or ~/.config.

Tests are marked by what they need: ``aws`` (a moto server), ``browser`` (headless Chromium); the fast lane is
``pytest -m "not aws and not browser" -n 2`` (pytest-xdist).
"""

import pytest
from hypothesis import settings

# Property tests: 10 fixed examples on every run (`--hypothesis-profile thorough`: 200 random ones, for a deeper
# search now and then). Each example of tests/hostile/test_property.py is a whole audit.
settings.register_profile("default", max_examples=10, derandomize=True, database=None, deadline=None)
settings.register_profile("thorough", max_examples=200, database=None, deadline=None)
settings.load_profile("default")

MARK_BY_FIXTURE = {"moto_url": "aws", "chromium": "browser"}


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture, mark in MARK_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(mark)


@pytest.fixture(scope="session", autouse=True)
def isolated_session_dirs(tmp_path_factory):
    """Module- and session-scoped fixtures run before the per-test isolation below: give them private per-user
    directories and the same terminal too, so no test ever touches the real ~/.local/share/advisor (its store,
    history and lock) and a shared run prints as a test's own would."""
    home = tmp_path_factory.mktemp("session-user")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        patch.delenv("ADVISOR_STORE", raising=False)
        patch.delenv("COLUMNS", raising=False)  # as below: a shared fixture's run must not wrap at the runner's width
        patch.delenv("LINES", raising=False)
        yield home


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("ADVISOR_STORE", raising=False)
    # the terminal's size is the runner's, not the test's (pytest-xdist workers set COLUMNS=80): a test that
    # needs a width sets it
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    return home


@pytest.fixture(scope="session")
def catalog():
    """The bundled catalog, loaded once for the whole run."""
    from advisor.catalog import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def demo_frames():
    """The bundled demo fleet's inventory and metrics, loaded once for the whole run: tests only read them."""
    from advisor.sources.demo import load_demo

    return load_demo()


@pytest.fixture(scope="session")
def demo_audit(demo_frames, catalog):
    """The demo fleet through the pipeline over its 14 days, once for the whole run: tests only read it."""
    from advisor.engine.pipeline import audit
    from advisor.sources.demo import DEMO_END, DEMO_START

    return audit(*demo_frames, catalog, source_label="demo", window=(DEMO_START, DEMO_END))
