"""Scripting ringlet from Python: create a profile, look at exactly what launching it would do,
then launch it — all in a throwaway ringlet home, so nothing here touches your real profiles.

Run (after `pip install ./bindings/python`):

    python examples/python/plan_and_run.py [AGENT_BINARY]

AGENT_BINARY stands in for the agent's CLI (the tests use target/debug/fake-agent); without it
the script plans but does not launch.
"""

import json
import sys
import tempfile
from pathlib import Path

import ringlet


def main() -> int:
    binary = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as home:
        # Keys in a 0600 file under the throwaway home, never in your keychain.
        (Path(home) / "config").mkdir()
        (Path(home) / "config" / "config.toml").write_text('[credentials]\nbackend = "file"\n')
        r = ringlet.Ringlet(home=home)

        # None means "not given" for every option: the agent manifest's binary then.
        profile = r.create_profile(
            "claude", "work", "minimax", key="sk-example-not-real", model="MiniMax-M3",
            binary=binary,
        )
        print(f"profile {profile['alias']}: {profile['agent']} via {profile['provider']}")

        plan = r.plan_run("work", ["-p", "explain this repo"])
        print(f"program: {plan['program']} {' '.join(plan['args'])}")
        print(f"HOME:    {plan['home']}")
        for entry in plan["masked_env"]:
            print(f"  {entry['name']}={entry['value']}")
        # The plan is plain data and never holds the key.
        assert "sk-example-not-real" not in json.dumps(plan)

        try:
            r.profile("nobody")
        except ringlet.ProfileNotFound as err:
            print(f"typed error: {type(err).__name__} ({err.code})")

        if binary:
            # (--claude-log is the fake agent's: it writes a Claude transcript, as claude would.)
            outcome = r.run("work", ["--exit", "0", "--claude-log", "2"])
            print(f"ran {profile['agent']}: exit code {outcome['exit_code']} "
                  f"in {outcome['duration']} ms")
            # start() returns a handle: here the agent's output is piped and read back.
            with r.start("work", ["--exit", "0"], io="piped") as run:
                while (chunk := run.read()) is not None:
                    sys.stdout.write(chunk.decode(errors="replace"))
                print(f"started pid {run.pid}: exit code {run.wait()['exit_code']}")
            # The run's usage was read from the agent's own logs when it exited.
            today = r.usage(since="today")
            for row in today["rows"]:
                print(f"usage today: {row['profile']} {row['events']} responses, "
                      f"{row['total_tokens']} tokens, ${row['cost_usd']:.4f}")
            return outcome["exit_code"]
    return 0


if __name__ == "__main__":
    sys.exit(main())
