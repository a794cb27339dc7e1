"""The Graph and Razorpay stand-ins as a server of their own, for benchmarks and fault tests.

    python -m bot.sandbox.standins --port 9000 --bot-url http://127.0.0.1:8080 \\
        --graph-error-rate 0.3 --graph-429-rate 0.1 --graph-latency 2.0 \\
        --razorpay-error-rate 0.1 --razorpay-timeout-after-create 0.05

Point the bot at it with WHATSAPP_API_BASE=http://127.0.0.1:9000/sandbox/graph/v25.0 and
RAZORPAY_API_BASE=http://127.0.0.1:9000/sandbox/razorpay/v1, and the credentials in
`bot.sandbox.SANDBOX_CREDENTIALS`. `GET /stats` counts what arrived.
"""

import argparse
import random
import sys
from collections.abc import Sequence

from aiohttp import web

from bot.sandbox.app import mount_standins, stats
from bot.sandbox.credentials import Credentials
from bot.sandbox.faults import GraphFaults, RazorpayFaults
from bot.sandbox.state import SandboxState


def build_app(args: argparse.Namespace) -> web.Application:
    state = SandboxState(
        credentials=Credentials.defaults(),
        bot_url=args.bot_url.rstrip("/"),
        public_url=(args.public_url or f"http://127.0.0.1:{args.port}").rstrip("/"),
        graph_faults=GraphFaults(
            error_rate=args.graph_error_rate,
            rate_limit_rate=args.graph_429_rate,
            latency=args.graph_latency,
        ),
        razorpay_faults=RazorpayFaults(
            error_rate=args.razorpay_error_rate,
            timeout_after_create_rate=args.razorpay_timeout_after_create,
            timeout_seconds=args.razorpay_timeout_seconds,
        ),
        rng=random.Random(args.seed),  # noqa: S311 - fault injection, not security
    )
    app = web.Application()
    mount_standins(app, state)
    app.router.add_get("/stats", stats)
    return app


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a probability between 0 and 1")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.standins", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--bot-url", default="http://127.0.0.1:8080", help="webhooks go here")
    parser.add_argument("--public-url", help="base of checkout links (default: this server)")
    parser.add_argument("--graph-error-rate", type=_rate, default=0.0, help="P(HTTP 500)")
    parser.add_argument("--graph-429-rate", type=_rate, default=0.0, help="P(HTTP 429, 130429)")
    parser.add_argument("--graph-latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--razorpay-error-rate", type=_rate, default=0.0, help="P(500 on create)")
    parser.add_argument(
        "--razorpay-timeout-after-create",
        type=_rate,
        default=0.0,
        help="P(create the link, then answer only after --razorpay-timeout-seconds)",
    )
    parser.add_argument("--razorpay-timeout-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, help="make the injected faults reproducible")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"stand-ins on http://{args.host}:{args.port} → webhooks to {args.bot_url}", flush=True)
    web.run_app(build_app(args), host=args.host, port=args.port, print=None, shutdown_timeout=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
