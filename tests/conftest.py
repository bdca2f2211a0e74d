"""Shared fixtures. Each test gets its own per-user directories, so none touches the real ~/.local or ~/.config."""

import pytest


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("ADVISOR_STORE", raising=False)
    return home


@pytest.fixture(scope="session")
def catalog():
    """The bundled catalog, loaded once for the whole run."""
    from advisor.catalog import load_catalog

    return load_catalog()
