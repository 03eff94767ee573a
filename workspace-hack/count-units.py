#!/usr/bin/env python3
"""Counts what a cold tests/run.sh compiles, from cargo's unit graph (nothing is compiled).

For each cargo invocation of tests/run.sh and tests/bindings.sh (and, before issue 11 item 25,
of the test harness, which ran cargo from inside the tests), cargo's `--unit-graph` lists the
units it needs. A unit is compiled once and reused by every later invocation that needs the same
unit: the same package, target, mode, profile settings, platform, features, and the same units
as its dependencies (what cargo's metadata hash covers). The distinct units are the compilations
of a cold run.

Usage: python3 workspace-hack/count-units.py [--before] [REPO]
  REPO      the checkout to count (default: this one)
  --before  count the invocations of the scripts before item 25 (commit 2dc51c3), e.g.
            mkdir /tmp/before && git archive 2dc51c3 | tar -x -C /tmp/before &&
              python3 workspace-hack/count-units.py --before /tmp/before
"""

import collections
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def host_triple():
    out = subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout
    return next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("host: "))


def invocations(before, target):
    """(environment, cargo arguments) per invocation, in the order the scripts run them."""
    if before:
        env = {}
        return [(env, a) for a in [
            # tests/run.sh: clippy, build, test
            ["check", "--workspace", "--all-targets"],
            ["build", "--workspace", "--all-targets"],
            ["test", "--workspace"],
            # tests/src/harness.rs, from inside the tests
            ["build", "-p", "ringlet-cli", "--bin", "ringlet"],
            ["build", "-p", "ringlet-tests", "--bin", "fake-agent"],
            # run.sh: keychain tests, example
            ["test", "-p", "ringlet", "--lib"],
            ["test", "-p", "ringlet-tests", "--test", "keychain"],
            ["build", "-p", "ringlet", "--example", "plan_a_launch"],
            # tests/bindings.sh, maturin (and pip install), napi, bindings/swift/generate.sh
            ["build", "-p", "ringlet-tests", "-p", "ringlet-cli", "--bin", "fake-agent",
             "--bin", "ringlet"],
            ["build", "--manifest-path", "bindings/python/Cargo.toml", "--lib"],
            ["build", "--manifest-path", "bindings/node/Cargo.toml", "--lib", "--target", target],
            ["build", "-p", "ringlet-ffi", "--lib", "--bin", "uniffi-bindgen"],
        ]]
    env = {"CARGO_BUILD_TARGET": target, "CARGO_INCREMENTAL": "0",
           "CARGO_PROFILE_DEV_DEBUG": "line-tables-only"}
    built = ["--workspace", "--exclude", "ringlet-python", "--exclude", "ringlet-node"]
    return [(env, a) for a in [
        ["check", "--workspace", "--all-targets"],
        ["build", *built, "--lib", "--bins", "--tests", "--examples"],
        ["test", *built],
        ["test", *built, "--lib"],
        ["test", *built, "--test", "keychain"],
        ["build", *built, "--lib", "--bins", "--tests", "--examples"],
        ["build", "--manifest-path", "bindings/python/Cargo.toml", "--lib"],
        ["build", "--manifest-path", "bindings/node/Cargo.toml", "--lib", "--target", target],
        ["build", "-p", "ringlet-ffi", "--lib", "--bin", "uniffi-bindgen"],
    ]]


def package_name(pkg_id):
    # registry+…#name@1.2.3, path+file:///…/dir#name@0.1.0 or path+file:///…/name#0.1.0
    fragment = pkg_id.rsplit("#", 1)[-1]
    if "@" in fragment:
        return fragment.rsplit("@", 1)[0]
    return pkg_id.rsplit("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def main():
    args = sys.argv[1:]
    before = "--before" in args
    args = [a for a in args if a != "--before"]
    repo = os.path.abspath(args[0] if args else os.path.join(HERE, ".."))
    target = host_triple()
    seen = {}  # unit identity → (package, mode)
    scratch = tempfile.mkdtemp()
    print(f"{'new':>5} {'units':>5}  invocation")
    for extra_env, cargo_args in invocations(before, target):
        env = dict(os.environ, RUSTC_BOOTSTRAP="1", CARGO_TARGET_DIR=scratch)
        for key in ("CARGO_BUILD_TARGET", "CARGO_INCREMENTAL", "CARGO_PROFILE_DEV_DEBUG"):
            env.pop(key, None)
        env.update(extra_env)
        out = subprocess.run(["cargo", *cargo_args, "--locked", "--unit-graph", "-Z",
                              "unstable-options"], cwd=repo, env=env, check=True,
                             capture_output=True, text=True).stdout
        units = json.loads(out)["units"]
        ids = [None] * len(units)

        def identity(i):
            if ids[i] is None:
                u = units[i]
                # The profile's name is not part of it (cargo's metadata hash leaves it out):
                # `cargo test` builds a dependency with the `test` profile, `cargo build --tests`
                # with `dev`, and both reuse one compilation when their settings agree.
                profile = {k: v for k, v in u["profile"].items() if k != "name"}
                deps = sorted(identity(d["index"]) for d in u["dependencies"])
                key = [u["pkg_id"], u["target"]["name"], u["target"]["kind"],
                       u["target"]["crate_types"], u["mode"], profile, u["platform"],
                       u["features"], deps]
                ids[i] = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
            return ids[i]

        new = 0
        for i, u in enumerate(units):
            # Running a build script, or rustdoc on doctests, compiles nothing of its own here.
            if u["mode"] in ("run-custom-build", "doctest"):
                continue
            key = identity(i)
            if key not in seen:
                seen[key] = (package_name(u["pkg_id"]), u["mode"])
                new += 1
        env_text = " ".join(f"{k}={v}" for k, v in extra_env.items() if k == "CARGO_BUILD_TARGET")
        print(f"{new:5d} {len(units):5d}  {env_text + ' ' if env_text else ''}cargo "
              f"{' '.join(cargo_args)}")
    subprocess.run(["rm", "-rf", scratch], check=False)
    compiled = [name for name, mode in seen.values() if mode != "check"]
    checked = len(seen) - len(compiled)
    per_package = collections.Counter(compiled)
    print(f"\n{len(compiled)} compilations (+ {checked} type-checks for clippy)")
    print("compilations per package, most first:",
          ", ".join(f"{n} {c}" for n, c in per_package.most_common(10)))
    print("zbus", per_package["zbus"], "rhai", per_package["rhai"], "rusqlite",
          per_package["rusqlite"], "tokio", per_package["tokio"])


if __name__ == "__main__":
    main()
