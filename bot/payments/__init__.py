"""Payment providers behind one small interface (`PaymentProvider`); Razorpay is the first.

Callers import the interface and its types from here; a provider's own module is imported
only where the app is wired together, so adding Stripe or Paystack is a new module.
"""

from bot.payments.base import (
    CallbackResult,
    CreatedLink,
    LinkRequest,
    MalformedPaymentWebhook,
    PaymentProvider,
    PaymentProviderError,
    ProviderRejected,
    ProviderUnavailable,
    ProviderWebhook,
)

__all__ = [
    "CallbackResult",
    "CreatedLink",
    "LinkRequest",
    "MalformedPaymentWebhook",
    "PaymentProvider",
    "PaymentProviderError",
    "ProviderRejected",
    "ProviderUnavailable",
    "ProviderWebhook",
]
