"""ringlet: run many coding-agent CLIs side by side in isolated profiles.

A thin binding over the Rust library. Everything goes through :class:`Ringlet`::

    import ringlet

    r = ringlet.Ringlet(home="/tmp/ringlet-demo")
    r.create_profile("claude", "work", "anthropic", key="sk-ant-...")
    print(r.profile("work")["model"])               # a dict, like every result
    plan = r.plan_run("work", ["-p", "hello"])      # a dict; never holds the key
    outcome = r.run("work", ["-p", "hello"])        # blocks, GIL released
    print(outcome["exit_code"])

Errors are subclasses of :class:`RingletError`; each has a stable ``code``.
"""

from ringlet._ringlet import (
    AgentNotInstalled,
    CredentialError,
    DownloadError,
    HookError,
    HookNotFound,
    HookStateError,
    Incompatible,
    InsecurePermissions,
    InvalidAlias,
    InvalidInput,
    IoError,
    KeychainLocked,
    KeychainUnavailable,
    KeyNotFound,
    KeyNotMigrated,
    MissingKey,
    NoHome,
    SandboxUnavailable,
    ParseError,
    ProfileExists,
    ProfileNotFound,
    Ringlet,
    RingletError,
    ScriptError,
    SpawnError,
    UnknownAgent,
    UnknownEndpoint,
    UnknownProvider,
    UsageStoreError,
    __version__,
)

__all__ = [
    "AgentNotInstalled",
    "CredentialError",
    "DownloadError",
    "HookError",
    "HookNotFound",
    "HookStateError",
    "Incompatible",
    "InsecurePermissions",
    "InvalidAlias",
    "InvalidInput",
    "IoError",
    "KeyNotFound",
    "KeyNotMigrated",
    "KeychainLocked",
    "KeychainUnavailable",
    "MissingKey",
    "NoHome",
    "SandboxUnavailable",
    "ParseError",
    "ProfileExists",
    "ProfileNotFound",
    "Ringlet",
    "RingletError",
    "ScriptError",
    "SpawnError",
    "UnknownAgent",
    "UnknownEndpoint",
    "UnknownProvider",
    "UsageStoreError",
    "__version__",
]
