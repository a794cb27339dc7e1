"""Where the test fixtures live: inside the repository, so a fresh clone has them."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
WHATSAPP_FIXTURES = FIXTURES / "whatsapp"
RAZORPAY_FIXTURES = FIXTURES / "razorpay"
STRIPE_FIXTURES = FIXTURES / "stripe"
PAYSTACK_FIXTURES = FIXTURES / "paystack"
