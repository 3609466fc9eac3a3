"""Check the import-linter contracts of pyproject.toml (the layering of DESIGN.md §1) on
the link tree of link_tree.py: the editable install's import hook is taken out of the way so
`red.*` resolves to the tree with the installed layout. Exit code: import-linter's."""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    tree = subprocess.run(
        [sys.executable, os.path.join(HERE, "link_tree.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, tree)
    for name in [m for m in sys.modules if m == "red" or m.startswith("red.")]:
        del sys.modules[name]
    from importlinter.cli import lint_imports_command

    # (not run from the checkout: its red/ folder, holding only the top package, would
    # shadow the tree)
    os.chdir(os.path.dirname(tree))
    config = os.path.join(os.path.dirname(HERE), "pyproject.toml")
    return lint_imports_command.main(args=[config], standalone_mode=False)


if __name__ == "__main__":
    sys.exit(main())
