#!/usr/bin/env python3
"""Writes tests/fixtures/litellm_model_prices.json: LiteLLM's pricing feed
(model_prices_and_context_window.json, ~3,000 models, 1.4 MB) cut down to the entries ringlet's
tests use, each entry kept whole and in the feed's own formatting:

- `sample_spec` (the feed's documentation entry, whose values are strings: a parser must skip it);
- every model of the built-in price table (ringlet/assets/pricing.toml), as the test
  `builtin_table_matches_the_litellm_sample` looks it up (`<provider>/<name>`, else `<name>`);
- every feed key that a usage test names as a string literal (ringlet/src/usage/, tests/cli/).

Run it again after adding a model to the built-in table or a test that looks one up:

    python3 tests/trim-litellm-feed.py FEED.json
    (FEED.json: a download of https://raw.githubusercontent.com/BerriAI/litellm/main/
     model_prices_and_context_window.json)
"""

import json
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "litellm_model_prices.json"
SOURCES = [REPO / "ringlet" / "src" / "usage", REPO / "tests" / "cli"]


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    feed = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    wanted = {"sample_spec"}

    table = tomllib.loads((REPO / "ringlet" / "assets" / "pricing.toml").read_text())
    for model in table["model"]:
        prefixed = f"{model['provider']}/{model['name']}"
        key = prefixed if prefixed in feed else model["name"]
        if key not in feed:
            print(f"trim-litellm-feed: built-in model {model['name']} is not in the feed",
                  file=sys.stderr)
            return 1
        wanted.add(key)

    literal = re.compile(r'"([^"\\\s]{2,100})"')
    for root in SOURCES:
        for path in sorted(root.rglob("*.rs")):
            wanted.update(k for k in literal.findall(path.read_text()) if k in feed)

    # The feed's order and formatting (one-space indent, non-ASCII escaped), entries whole.
    trimmed = {k: v for k, v in feed.items() if k in wanted}
    OUT.write_text(json.dumps(trimmed, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(REPO)}: {len(trimmed)} of {len(feed)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
