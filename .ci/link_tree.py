"""Build `build/link-tree/red/`, a tree of symbolic links with the installed layout of the
package (`red.dialects` -> dialects/, ...), read from pyproject's package-dir: the static
tools (import-linter's contracts, pyright) resolve `red.*` through it, where the editable
install's import hook hides the layout from them. Run from anywhere; prints the tree's
root (put it first on PYTHONPATH / pyright's extraPaths)."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, "build", "link-tree")


def main() -> int:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        package_dir: dict[str, str] = tomllib.load(f)["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(TREE, ignore_errors=True)
    for package, folder in sorted(package_dir.items()):
        target = os.path.join(TREE, *package.split("."))
        os.makedirs(target, exist_ok=True)
        source = os.path.join(ROOT, folder)
        for name in os.listdir(source):
            if name.endswith(".py"):
                os.symlink(os.path.join(source, name), os.path.join(target, name))
    print(TREE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
