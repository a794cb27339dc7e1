"""Fitting text into the Cloud API's character limits."""

ELLIPSIS = "…"
# How much raw text `shorten` looks at: room for runs of spaces that collapse to one.
RAW_CUT_FACTOR = 4
RAW_CUT_SLACK = 64


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, at a word boundary when one is near.

    Counts characters (code points), as Meta does: a Hindi name is as long as its letters.
    A very long text is cut before its spaces are collapsed, so a 3 MB name is never split into
    a million words to keep a few of them.
    """
    text = " ".join(text[: RAW_CUT_FACTOR * limit + RAW_CUT_SLACK].split())
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
