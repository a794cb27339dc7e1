"""Where a profiled bot's CPU goes, by layer: aiohttp, the event loop, storage, the bot's own
code, pydantic, the state machine.

Reads py-spy's raw output (collapsed stacks: `frame;frame;... count` per line, as written by
`python -m bench --profile DIR --profile-format raw`) and charges each sample to the layer of
its innermost frame, the code that was running. Multiplied by the bot's measured CPU per
message this says, for instance, how much of it aiohttp alone costs inside the bot:

    python -m bench.profile_layers DIR/bot-sqlite-1-800.txt --us-per-message 914
"""

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

# The innermost frame's file, as py-spy prints it: "function (path/to/file.py:123)".
_FRAME_FILE = re.compile(r"\((?P<file>[^()]*?)(?::\d+)?\)$")

# Checked in order; the first prefix that matches names the layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # web.run_app's frame is where uvloop's C loop (epoll, callbacks, transports) is sampled.
    ("event loop", ("aiohttp/web.py",)),
    ("aiohttp", ("aiohttp/", "multidict/", "yarl/", "aiosignal/", "frozenlist/")),
    (
        "asyncio and stdlib glue",
        ("asyncio/", "_weakrefset", "contextlib", "dataclasses", "<string>"),
    ),
    ("storage", ("storage/",)),
    ("pydantic", ("pydantic", "pydantic_core")),
    ("state machine (flows/)", ("flows/",)),
    ("bot", ("bot/",)),
)
OTHER = "other"


def layer_of(frame: str) -> str:
    match = _FRAME_FILE.search(frame)
    path = match.group("file") if match else frame
    for layer, prefixes in LAYERS:
        if path.startswith(prefixes):
            return layer
    return OTHER


def layer_shares(lines: Iterable[str]) -> dict[str, float]:
    """Each layer's share of the samples (0–1), largest first."""
    samples: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue  # a blank or cut-off line
        samples[layer_of(stack.rsplit(";", 1)[-1])] += int(count)
    total = sum(samples.values())
    return {layer: n / total for layer, n in samples.most_common()} if total else {}


def table(shares: dict[str, float], us_per_message: float | None = None) -> str:
    head = "| layer | share of samples |" + (" µs per message |" if us_per_message else "")
    rule = "|---|---|" + ("---|" if us_per_message else "")
    rows = [head, rule]
    for layer, share in shares.items():
        row = f"| {layer} | {share * 100:.1f}% |"
        if us_per_message:
            row += f" {share * us_per_message:,.0f} |"
        rows.append(row)
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_layers", description=__doc__)
    parser.add_argument("profile", type=Path, help="py-spy raw output (collapsed stacks)")
    parser.add_argument(
        "--us-per-message", type=float, help="the bot's measured CPU µs per message"
    )
    args = parser.parse_args(argv)
    shares = layer_shares(args.profile.read_text().splitlines())
    if not shares:
        print(f"no samples in {args.profile}", file=sys.stderr)
        return 1
    print(table(shares, args.us_per_message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
