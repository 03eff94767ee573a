"""ringlet: run many coding-agent CLIs side by side in isolated profiles.

A thin binding over the Rust library. Everything goes through :class:`Ringlet`::

    import ringlet

    r = ringlet.Ringlet(home="/tmp/ringlet-demo")
    r.create_profile("claude", "work", "anthropic", key="sk-ant-...")
    print(r.profile("work")["model"])               # a dict, like every result
    plan = r.plan_run("work", ["-p", "hello"])      # a dict; never holds the key
    outcome = r.run("work", ["-p", "hello"])        # blocks, GIL released
    print(outcome["exit_code"])
    with r.start("work", io="pty", rows=40, cols=120) as run:   # a RunHandle
        run.write(b"hello\n")
        print(run.read())                               # bytes, None at end of file
        print(run.wait()["exit_code"])

Errors are subclasses of :class:`RingletError`, grouped by kind (:class:`NotFoundError`,
:class:`ConflictError`, :class:`InvalidInputError`, :class:`UnavailableError`,
:class:`InternalError`); each has a stable ``code``, its ``kind`` and a ``hint`` (the fix, in
Python's terms, or None).
"""

from ringlet._ringlet import (
    AgentNotInstalled,
    ConflictError,
    CredentialError,
    DownloadError,
    HookError,
    HookExists,
    HookNotFound,
    HookStateError,
    Incompatible,
    InsecurePermissions,
    InternalError,
    InvalidAlias,
    InvalidInput,
    InvalidInputError,
    IoError,
    KeyAliasTaken,
    KeychainLocked,
    KeychainUnavailable,
    KeyExists,
    KeyNotFound,
    KeyNotMigrated,
    MissingKey,
    NoHome,
    NotFoundError,
    ParseError,
    ProfileExists,
    ProfileNotFound,
    Ringlet,
    RingletError,
    RunHandle,
    Subscription,
    HookTransportMissing,
    SessionNotFound,
    RemoteNotFound,
    RemoteExists,
    ProxyError,
    RegistryError,
    SandboxUnavailable,
    ScriptError,
    SpawnError,
    UnavailableError,
    UnknownAgent,
    UnknownEndpoint,
    UnknownModel,
    UnknownProvider,
    UsageStoreError,
    __version__,
)

__all__ = [
    "AgentNotInstalled",
    "ConflictError",
    "CredentialError",
    "DownloadError",
    "HookError",
    "HookExists",
    "HookNotFound",
    "HookStateError",
    "Incompatible",
    "InsecurePermissions",
    "InternalError",
    "InvalidAlias",
    "InvalidInput",
    "InvalidInputError",
    "IoError",
    "KeyAliasTaken",
    "KeyExists",
    "KeyNotFound",
    "KeyNotMigrated",
    "KeychainLocked",
    "KeychainUnavailable",
    "MissingKey",
    "NoHome",
    "NotFoundError",
    "ParseError",
    "ProfileExists",
    "ProfileNotFound",
    "Ringlet",
    "RingletError",
    "RunHandle",
    "Subscription",
    "HookTransportMissing",
    "SessionNotFound",
    "RemoteNotFound",
    "RemoteExists",
    "ProxyError",
    "RegistryError",
    "SandboxUnavailable",
    "ScriptError",
    "SpawnError",
    "UnavailableError",
    "UnknownAgent",
    "UnknownEndpoint",
    "UnknownModel",
    "UnknownProvider",
    "UsageStoreError",
    "__version__",
]
