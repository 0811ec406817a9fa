"""The HTTP layers stay thin: they validate, call a service or a selector, and render. No ORM (``.objects``,
a model's managers) and no raw SQL in them: every query is a domain app's selector, every write its
service. And no module of theirs (or of the split domain modules) grows past ``MAX_LINES`` again.

To cover another layer, add its directory (under ``src/tastemaker``) to ``HTTP_LAYERS``."""

from __future__ import annotations

import ast
from pathlib import Path

import tastemaker

ROOT = Path(tastemaker.__file__).parent
HTTP_LAYERS = ["api"]
# managers and querysets reached from a model class; any of these in an HTTP layer is a query written there
ORM_ATTRIBUTES = {"objects", "_default_manager", "_base_manager"}
# the database itself (connections, transactions, raw SQL)
DB_MODULES = ("django.db",)
# exceptions to "no database access", each with its reason (keep this short; an entry whose file no longer
# needs it fails the test, so it cannot outlive its reason)
DB_EXCEPTIONS: dict[str, str] = {}

MAX_LINES = 500
SIZE_CHECKED = [*HTTP_LAYERS, "showcase"]


def _modules(layers: list[str]):
    for layer in layers:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, path.relative_to(ROOT).as_posix()


def _db_imports(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(DB_MODULES):
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name.startswith(DB_MODULES) for a in node.names):
            lines.append(node.lineno)
    return lines


def test_no_orm_in_http_layers():
    offenders = []
    for path, name in _modules(HTTP_LAYERS):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{name}:{node.lineno}: .{node.attr}" for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and node.attr in ORM_ATTRIBUTES]
    assert not offenders, ("ORM in an HTTP layer; call a selector (reads) or a service (writes) of the domain "
                           "app instead:\n" + "\n".join(offenders))


def test_no_database_access_in_http_layers():
    offenders, used = [], set()
    for path, name in _modules(HTTP_LAYERS):
        lines = _db_imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if lines and name in DB_EXCEPTIONS:
            used.add(name)
        elif lines:
            offenders += [f"{name}:{line}: imports {DB_MODULES[0]}" for line in lines]
    assert not offenders, ("database access (connections, transactions, raw SQL) in an HTTP layer; move it to "
                           "a selector or a service:\n" + "\n".join(offenders))
    stale = sorted(set(DB_EXCEPTIONS) - used)
    assert not stale, f"these exceptions are no longer needed; remove them from DB_EXCEPTIONS: {stale}"


def test_modules_stay_small():
    big = []
    for path, name in _modules(SIZE_CHECKED):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            big.append(f"{name}: {lines} lines")
    assert not big, f"split these by resource (at most {MAX_LINES} lines a module):\n" + "\n".join(big)


def test_the_orm_guard_finds_a_query():
    """The guard would see a query if one crept back (and not one merely named in a docstring)."""
    tree = ast.parse('"""Post.objects.filter() is named here only."""\n'
                     "def f(pk):\n    return Post.objects.filter(pk=pk).first()\n")
    found = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ORM_ATTRIBUTES]
    assert found == [3]
    assert _db_imports(ast.parse("from django.db import transaction\nimport django.db.models\n")) == [1, 2]
