"""red-cache stats|clear on the local directory (Redis: test_cache_redis.py): entries, size,
budget and counters of the configured backend; clear empties it; bad input is `error: ...`
with exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from red.cache.directory import DirectoryStore
from red.tools.red_cache import human, main


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("RED_CACHE_URL", raising=False)
    monkeypatch.delenv("RED_CACHE", raising=False)
    monkeypatch.setenv("RED_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RED_CACHE_SIZE", "1M")
    store = DirectoryStore(str(tmp_path), 1 << 20)
    store.put("object", "a" * 64, bytes(3000))
    store.put("prefix", "b" * 64, bytes(1000))
    store.get("object", "a" * 64)
    store.get("object", "c" * 64)
    return tmp_path


def test_stats_of_the_configured_directory(cache_dir, capsys):
    code = main(["stats"])

    out = capsys.readouterr().out
    assert code == 0
    assert f"location: {cache_dir}\n" in out
    assert "backend:  local directory\n" in out
    assert "entries:  2 (object: 1, prefix: 1)\n" in out
    assert "of 1.0 MiB budget (0.4%)" in out
    assert "hits:     1\nmisses:   1\nhit rate: 50.0%\nwrites:   2\n" in out


def test_stats_as_json(cache_dir, capsys):
    code = main(["stats", "--json"])

    stats = json.loads(capsys.readouterr().out)
    assert code == 0
    assert stats["backend"] == "local"
    assert stats["entries"] == 2
    assert stats["budget"] == 1 << 20
    assert stats["kinds"]["object"][0] == 1
    assert stats["counters"]["hits"] == 1
    assert stats["enabled"] is True


def test_clear_empties_the_directory(cache_dir, capsys):
    code = main(["clear"])
    out = capsys.readouterr().out
    main(["stats"])

    after = capsys.readouterr().out
    assert code == 0
    assert out == f"removed 2 entries from {cache_dir}\n"
    assert "entries:  0\n" in after
    assert "hits:     0\n" in after


def test_url_flag_overrides_the_environment(cache_dir, tmp_path_factory, capsys):
    other = tmp_path_factory.mktemp("other")

    code = main(["stats", "--url", f"file://{other}"])

    assert code == 0
    assert f"location: {other}\n" in capsys.readouterr().out


def test_switched_off_is_shown(cache_dir, monkeypatch, capsys):
    monkeypatch.setenv("RED_CACHE", "off")

    main(["stats"])

    assert "backend:  local directory (disabled: RED_CACHE=off)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            [], "error: the following arguments are required: {stats,clear}", id="no-command"
        ),
        pytest.param(
            ["purge"], "error: argument {stats,clear}: invalid choice: 'purge'", id="bad-command"
        ),
        pytest.param(
            ["stats", "--url", "memcached://h"],
            "error: unknown cache URL scheme 'memcached://'",
            id="bad-scheme",
        ),
        pytest.param(
            ["stats", "--url", "redis://h:port/0"], "error: invalid Redis URL", id="bad-redis-url"
        ),
    ],
)
def test_bad_input_is_an_error_without_traceback(cache_dir, capsys, argv, message):
    code = main(argv)

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(message)
    assert "Traceback" not in err


def test_clear_of_a_missing_directory_removes_nothing(tmp_path, capsys):
    code = main(["clear", "--url", str(tmp_path / "never-made")])

    assert code == 0
    assert capsys.readouterr().out.startswith("removed 0 entries")
    assert not (tmp_path / "never-made").exists()


def test_unreadable_directory_is_an_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "v1").symlink_to(blocker)  # v1 is not a directory

    code = main(["stats", "--url", str(tmp_path / "cache")])

    assert code == 1
    assert capsys.readouterr().err.startswith(f"error: cannot read {tmp_path}/cache/v1:")


def test_runs_as_a_module(cache_dir):
    done = subprocess.run(
        [sys.executable, "-m", "red.tools.red_cache", "stats"],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0
    assert "entries:  2" in done.stdout


@pytest.mark.parametrize(
    ("n", "text"),
    [
        pytest.param(0, "0 B", id="zero"),
        pytest.param(1023, "1023 B", id="bytes"),
        pytest.param(1536, "1.5 KiB", id="kibibytes"),
        pytest.param(5 << 30, "5.0 GiB", id="gibibytes"),
        pytest.param(3 << 40, "3072.0 GiB", id="beyond-gibibytes"),
    ],
)
def test_human_sizes(n, text):
    assert human(n) == text
