"""Text folded for search: lower case, without Polish (or any Latin) diacritics.

"Wąchock" and "WACHOCK" both fold to "wachock". Written here because it is a few lines of the
standard library: NFKD splits "ą" into "a" and a combining mark, which is dropped; "ł" has no
decomposition in Unicode, so it is mapped by hand (the only Polish letter that needs it).
The same function folds the stored search keys and the typed query, so both sides agree.
"""

from __future__ import annotations

import unicodedata

_UNSPLIT = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "ø": "o", "ß": "ss"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNSPLIT))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def search_key(*parts: str | None) -> str:
    """The folded words of `parts`, space-separated with a space at each end, so that a query
    matches at a word's start with `LIKE '% word%'` and anywhere with `LIKE '%word%'`."""
    words = fold(" ".join(p for p in parts if p))
    return f" {words} "[:400]
