"""Sandbox mode: the whole shop on a laptop, no Meta or Razorpay account needed.

The bot runs unchanged; only its two outside services are replaced by stand-ins served by the
same process that speak the real wire formats. The app factory calls `setup_sandbox` in
sandbox mode only, so in live mode none of these routes exist.
"""

from bot.sandbox.app import sandbox_settings, setup_sandbox
from bot.sandbox.credentials import SANDBOX_CREDENTIALS
from bot.sandbox.state import SANDBOX, SandboxState

__all__ = ["SANDBOX", "SANDBOX_CREDENTIALS", "SandboxState", "sandbox_settings", "setup_sandbox"]
