"""Item 1: a link planted at any fixed name the tool writes is never followed; the link's target is untouched."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from advisor.errors import ConfigError
from advisor.fsutil import atomic_write_text, ensure_writable_dir
from advisor.logs import configure, event
from advisor.outputs import write_outputs
from advisor.runlock import RunLock
from advisor.store.cache import Store, StoreError
from advisor.store.history import History

SECRET = "someone else's file\n"
WHEN = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
OUTPUT_NAMES = ("report.html", "recommendations.json", "recommendations.csv", ".report.html.latest.tmp",
                ".recommendations.json.latest.tmp", ".recommendations.csv.latest.tmp", ".advisor-write-test",
                "report-20261116T030000000Z.html")


def _victim(tmp_path: Path, name: str = "victim.txt") -> Path:
    victim = tmp_path / "elsewhere" / name
    victim.parent.mkdir(exist_ok=True)
    victim.write_text(SECRET)
    victim.chmod(0o644)
    return victim


def _plant(directory: Path, name: str, target: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / name
    link.symlink_to(target)
    return link


def test_outputs_replace_links_at_every_fixed_name(tmp_path: Path) -> None:
    out = tmp_path / "out"
    victims = {name: _victim(tmp_path, f"victim-{i}") for i, name in enumerate(OUTPUT_NAMES)}
    for name, victim in victims.items():
        _plant(out, name, victim)
    ensure_writable_dir(out)
    write_outputs(out, WHEN, {"report.html": "<p>r</p>", "recommendations.json": "[]", "recommendations.csv": "a\n"},
                  retention=5)
    for victim in victims.values():
        assert victim.read_text() == SECRET
    for name in ("report.html", "recommendations.json", "recommendations.csv", "report-20261116T030000000Z.html"):
        assert not (out / name).is_symlink() and (out / name).is_file()
    assert (out / "report.html").read_text() == "<p>r</p>"


def test_an_atomic_write_replaces_a_planted_link(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    link = _plant(tmp_path / "out", "recs.csv", victim)
    atomic_write_text(link, "x\n")
    assert victim.read_text() == SECRET and link.read_text() == "x\n" and not link.is_symlink()


def test_outputs_are_private_by_default_and_configurable(tmp_path: Path) -> None:
    written = write_outputs(tmp_path, WHEN, {"report.html": "r"}, retention=5)
    assert stat.S_IMODE(written[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o600
    write_outputs(tmp_path, WHEN, {"report.html": "r"}, retention=5, mode=0o640)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o640


def test_the_lock_refuses_a_planted_link(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    _plant(tmp_path / "store", "advisor.lock", victim)
    with pytest.raises(ConfigError, match=r"advisor.lock is a symbolic link"), RunLock(tmp_path / "store"):
        pass
    assert victim.read_text() == SECRET


def test_the_lock_refuses_a_hard_link_and_a_fifo(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    os.link(victim, store / "advisor.lock")
    with pytest.raises(ConfigError, match="hard link"), RunLock(store):
        pass
    assert victim.read_text() == SECRET
    (store / "advisor.lock").unlink()
    os.mkfifo(store / "advisor.lock")
    with pytest.raises(ConfigError, match="not a regular file"), RunLock(store):
        pass


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    with RunLock(tmp_path):
        assert stat.S_IMODE((tmp_path / "advisor.lock").stat().st_mode) == 0o600


def test_the_log_file_refuses_a_planted_link(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    link = _plant(tmp_path / "logs", "advisor.log", victim)
    with pytest.raises(ConfigError, match="advisor.log is a symbolic link"):
        configure(link, "text")
    configure(None)
    assert victim.read_text() == SECRET


def test_the_log_file_is_appended_and_private(tmp_path: Path) -> None:
    log = tmp_path / "advisor.log"
    configure(log, "json")
    event("one")
    configure(log, "json")
    event("two")
    configure(None)
    assert [line.count('"event"') for line in log.read_text().splitlines()] == [1, 1]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


@pytest.mark.parametrize("name", ["cache.duckdb", "cache.duckdb.wal"])
def test_the_store_refuses_a_planted_link(tmp_path: Path, name: str) -> None:
    victim = _victim(tmp_path)
    _plant(tmp_path / "store", name, victim)
    with pytest.raises(StoreError, match="symbolic link"):
        Store(tmp_path / "store" / "cache.duckdb")
    assert victim.read_text() == SECRET


@pytest.mark.parametrize("name", ["history.duckdb", "history.duckdb.wal"])
def test_the_history_refuses_a_planted_link(tmp_path: Path, name: str) -> None:
    victim = _victim(tmp_path)
    _plant(tmp_path / "store", name, victim)
    with pytest.raises(ConfigError, match="symbolic link"):
        History(tmp_path / "store")
    assert victim.read_text() == SECRET


def _a_page(store: Store):
    import pandas as pd

    keys = pd.DataFrame({"account": "123456789012", "region": "us-east-1", "resource_id": ["i-1"],
                         "namespace": "AWS/EC2", "metric_name": "CPUUtilization", "dimensions": ["[]"],
                         "stat": "Average", "period": 300})
    ids = store.series_ids(keys)
    stamp = int(WHEN.timestamp())
    return pd.DataFrame({"series_id": ids, "ts": [stamp], "value": [1.0]})


@pytest.mark.parametrize("planted", ["cache.points", "cache.points/account=123456789012",
                                     "cache.points/account=123456789012/region=us-east-1/date=2026-11-16"])
def test_the_store_refuses_a_link_planted_at_a_partition_directory(tmp_path: Path, planted: str) -> None:
    from advisor.store.parts import PartsError

    victim = tmp_path / "elsewhere"
    victim.mkdir()
    (victim / "keep.txt").write_text(SECRET)
    store_dir = tmp_path / "store"
    with Store(store_dir / "cache.duckdb") as store:  # planted while a run is on: the next page is refused
        page = _a_page(store)
        link = store_dir / planted
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(victim, target_is_directory=True)
        with pytest.raises(PartsError, match="symbolic link"):
            store.write(page)
    with pytest.raises((StoreError, PartsError), match="symbolic link"), \
            Store(store_dir / "cache.duckdb") as again:  # planted before a run: the root on open, others when read
        again.counts()
    assert [p.name for p in victim.iterdir()] == ["keep.txt"] and (victim / "keep.txt").read_text() == SECRET
