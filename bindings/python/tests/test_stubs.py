"""The .pyi stubs describe the module as it is: the same methods, exception classes and profile
keys."""

import ast
import inspect
from pathlib import Path

import ringlet
import ringlet._ringlet as native
from test_glue import make_profile

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
    # Every class the stub derives from RingletError, directly or through a kind class, with
    # the base it names; the runtime must have the same classes with the same bases.
    bases = {
        n.name: [b.id for b in n.bases if isinstance(b, ast.Name)]
        for n in stub_tree().body
        if isinstance(n, ast.ClassDef)
    }
    stubbed: dict[str, str] = {"RingletError": "Exception"}
    grew = True
    while grew:
        grew = False
        for name, bs in bases.items():
            if name not in stubbed and bs and bs[0] in stubbed:
                stubbed[name] = bs[0]
                grew = True
    runtime = {
        n: v.__bases__[0].__name__
        for n, v in vars(native).items()
        if isinstance(v, type) and issubclass(v, native.RingletError)
    }
    assert stubbed == runtime
    assert set(ringlet.__all__) >= set(runtime)
    kinds = {n for n, base in runtime.items() if base == "RingletError"}
    assert kinds == {
        "NotFoundError",
        "ConflictError",
        "InvalidInputError",
        "UnavailableError",
        "InternalError",
    }
    for name in set(runtime) - {"RingletError"}:
        cls = getattr(ringlet, name)
        assert cls.__module__ == "ringlet"
        assert cls.kind in ("not_found", "conflict", "invalid_input", "unavailable", "internal")
        if name not in kinds:
            assert isinstance(cls.code, str) and cls.code
            assert cls.__bases__[0].kind == cls.kind


def test_stub_profile_matches_runtime(r: ringlet.Ringlet, fake_agent: str, tmp_path) -> None:
    """The `Profile` TypedDict has the keys real profiles have, `NotRequired` exactly where a
    key can be absent."""
    cls = next(
        n for n in stub_tree().body if isinstance(n, ast.ClassDef) and n.name == "Profile"
    )
    fields = {
        n.target.id: ast.unparse(n.annotation).startswith("NotRequired[")
        for n in cls.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    minimal = make_profile(r, "min", fake_agent)
    full = r.create_profile(
        "claude", "full", "custom", custom_endpoint="http://127.0.0.1:9", shape="anthropic",
        model="m", key_alias="team", working_dir=tmp_path, binary=fake_agent,
        args=["--verbose"], env={"FOO": "bar"},
    )
    full = r.update_profile("full", sandbox="off")
    # Between them the two have every key; the minimal one only the required ones.
    assert set(full) | set(minimal) == set(fields)
    assert set(minimal) == {name for name, optional in fields.items() if not optional} | {
        "endpoint", "model", "key_alias", "binary"
    }
