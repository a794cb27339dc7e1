"""Signatures exactly as Meta and Razorpay compute them, and the random ids they hand out."""

import base64
import secrets
import string

from bot.signatures import sign_meta, sign_razorpay, sign_razorpay_callback

_ALNUM = string.ascii_letters + string.digits


def meta_signature(body: bytes, app_secret: str) -> str:
    """`X-Hub-Signature-256`: over the raw body bytes, as sent (the bot's own signer, which
    the signature tests check against Meta's published vectors)."""
    return sign_meta(body, app_secret)


def razorpay_webhook_signature(body: bytes, webhook_secret: str) -> str:
    """`X-Razorpay-Signature`: lowercase hex over the raw body, keyed with the webhook secret."""
    return sign_razorpay(body, webhook_secret)


def razorpay_callback_signature(
    link_id: str, reference_id: str, status: str, payment_id: str, key_secret: str
) -> str:
    """`razorpay_signature` of the browser redirect: keyed with the API key secret."""
    return sign_razorpay_callback(
        link_id=link_id,
        reference_id=reference_id,
        status=status,
        payment_id=payment_id,
        key_secret=key_secret,
    )


def new_wamid() -> str:
    """Shaped like Meta's (base64 after `wamid.`); opaque, as the bot must treat it."""
    return "wamid." + base64.b64encode(secrets.token_bytes(30)).decode()


def razorpay_id(prefix: str) -> str:
    """`plink_`, `pay_`, `order_`, `evt_`... followed by 14 alphanumerics, like Razorpay's."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(14))


def fbtrace_id() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(27))
