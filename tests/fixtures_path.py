"""Where the shared fixtures live: /work/shared is a sibling of the repository root."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
WHATSAPP_FIXTURES = SHARED / "fixtures" / "whatsapp"
RAZORPAY_FIXTURES = SHARED / "fixtures" / "razorpay"
