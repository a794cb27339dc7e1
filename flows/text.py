"""Fitting text into the Cloud API's character limits."""

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, at a word boundary when one is near.

    Counts characters (code points), as Meta does: a Hindi name is as long as its letters.
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # Only back up to a word boundary when it keeps most of the room; otherwise cut mid-word.
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.-–—:;") + ELLIPSIS
