"""The .pyi stubs describe the module as it is: the same methods and exception classes."""

import ast
import inspect
from pathlib import Path

import ringlet
import ringlet._ringlet as native

STUB = Path(ringlet.__file__).with_name("_ringlet.pyi")


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def test_stub_methods_match_runtime() -> None:
    cls = next(
        n for n in stub_tree().body if isinstance(n, ast.ClassDef) and n.name == "Ringlet"
    )
    stubbed = {f.name for f in cls.body if isinstance(f, ast.FunctionDef)} - {"__init__"}
    runtime = {n for n, _ in inspect.getmembers(native.Ringlet) if not n.startswith("_")}
    assert stubbed == runtime


def test_stub_exceptions_match_runtime() -> None:
    stubbed = {
        n.name
        for n in stub_tree().body
        if isinstance(n, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id in ("RingletError", "Exception") for b in n.bases)
    }
    runtime = {
        n
        for n, v in vars(native).items()
        if isinstance(v, type) and issubclass(v, native.RingletError)
    }
    assert stubbed == runtime
    assert set(ringlet.__all__) >= runtime
    for name in runtime - {"RingletError"}:
        cls = getattr(ringlet, name)
        assert cls.__module__ == "ringlet"
        assert isinstance(cls.code, str) and cls.code


def test_stub_profile_matches_runtime() -> None:
    cls = next(
        n for n in stub_tree().body if isinstance(n, ast.ClassDef) and n.name == "Profile"
    )
    stubbed = {
        f.name for f in cls.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_")
    }
    runtime = {n for n, _ in inspect.getmembers(native.Profile) if not n.startswith("_")}
    assert stubbed == runtime
    # The protocol methods the stub promises (mapping, copy) are the class's own, not object's.
    dunders = {f.name for f in cls.body if isinstance(f, ast.FunctionDef)} - stubbed
    assert dunders and all(name in vars(native.Profile) for name in dunders), dunders
    dict_keys = {
        n.target.id
        for n in next(
            c for c in stub_tree().body if isinstance(c, ast.ClassDef) and c.name == "ProfileDict"
        ).body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    # Every to_dict() key is also an attribute.
    assert dict_keys <= runtime
