"""red-cache: `stats` shows the entries, size, budget and hit/miss counters of the configured
cache backend (`RED_CACHE_URL`, else the local directory `RED_CACHE_DIR` or the user cache
directory); `clear` empties it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from red.tools.cli import ArgumentParser, ToolError, guarded_main, write_stdout

if TYPE_CHECKING:
    from red.cache.store import StoreStats

BACKENDS = {"local": "local directory", "memory": "process memory", "redis": "Redis"}


def build_arg_parser() -> argparse.ArgumentParser:
    common = ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        help="the backend: redis://host:port/db, a directory or file:///dir "
        "(default: $RED_CACHE_URL, else $RED_CACHE_DIR, else the user cache directory)",
    )
    p = ArgumentParser(prog="red-cache", description="inspect or empty red's cache")
    commands = p.add_subparsers(dest="command", required=True, metavar="{stats,clear}")
    stats = commands.add_parser("stats", parents=[common], help="entries, size, budget, hits")
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    commands.add_parser("clear", parents=[common], help="remove every entry")
    return p


def human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_stats(stats: StoreStats, disabled: bool) -> str:
    kinds = ", ".join(f"{k}: {n}" for k, (n, _) in sorted(stats.kinds.items()))
    sizes = ", ".join(f"{k}: {human(b)}" for k, (_, b) in sorted(stats.kinds.items()))
    size = human(stats.bytes) + (f" ({sizes})" if sizes else "")
    if stats.budget:
        size += f" of {human(stats.budget)} budget ({100 * stats.bytes / stats.budget:.1f}%)"
    else:
        size += " (no budget: eviction is left to the server)" if stats.backend == "redis" else ""
    c = stats.counters
    lookups = c["hits"] + c["misses"]
    rate = f"{100 * c['hits'] / lookups:.1f}%" if lookups else "-"
    backend = BACKENDS.get(stats.backend, stats.backend)
    lines = [
        ("backend", backend + (" (disabled: RED_CACHE=off)" if disabled else "")),
        ("location", stats.location),
        ("entries", f"{stats.entries}" + (f" ({kinds})" if kinds else "")),
        ("size", size),
        ("hits", str(c["hits"])),
        ("misses", str(c["misses"])),
        ("hit rate", rate),
        ("writes", str(c["writes"])),
        ("corrupt", str(c["corrupt"])),
        ("errors", str(c["errors"])),
        *(("note", note) for note in stats.notes),
    ]  # fmt: skip
    return "".join(f"{name + ':':<10}{value}\n" for name, value in lines)


def run(argv: Sequence[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    from red.cache.config import compile_location, enabled, open_store
    from red.cache.store import StoreUnavailable

    url = args.url or compile_location()
    try:
        store = open_store(url)
        if args.command == "stats":
            stats = store.stats()
            if args.json:
                write_stdout(json.dumps({**asdict(stats), "enabled": enabled()}, indent=2) + "\n")
            else:
                write_stdout(format_stats(stats, not enabled()))
        else:
            removed = store.clear()
            write_stdout(f"removed {removed} entries from {store.location}\n")
        store.close()
    except StoreUnavailable as err:
        raise ToolError(str(err)) from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return guarded_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())
