"""The password policy for parents' own passwords (ASVS 6.2): length, not composition.

On top of the length rule of `check_password_policy` a new password is refused when it is one of
the 30,000 most common passwords of public breach corpora, or is easy to guess from them and from
the account's own context (its login, names, the children's schools and gmina). The list and the
guess estimate come from the `zxcvbn` package (MIT): its `passwords` frequency list was built
from leaked password sets (Xato's 10-million corpus), and its estimator scores patterns
(keyboard walks, repeats, dates, dictionary words with digits appended).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from ediary.errors import Refusal
from ediary.people.operations import check_password_policy

# zxcvbn's estimate: below 10^10 guesses a password falls to an offline attack on a stolen
# hash within days even with argon2id; its "score 4" threshold.
MIN_GUESSES_LOG10 = 10.0
# zxcvbn refuses longer input; the first 72 characters decide (longer ones are long enough).
_ESTIMATE_CHARS = 72


@functools.cache
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def _plain(text: str) -> str:
    """Lower case without Polish diacritics: "Wiśniewska" guesses like "wisniewska"."""
    decomposed = unicodedata.normalize("NFKD", text.lower()).replace("ł", "l")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def check_new_password(password: str, context: Iterable[str] = ()) -> None:
    """Refuses a password a person chooses for themselves (a Refusal with a readable reason)."""
    check_password_policy(password)
    plain = _plain(password)
    if plain in common_passwords() or plain.strip() in common_passwords():
        raise Refusal("password_common", _l("To hasło jest na liście najczęściej używanych haseł."))
    words = sorted({_plain(w) for text in context for w in text.replace("_", " ").split() if w})
    estimate = zxcvbn(plain[:_ESTIMATE_CHARS], user_inputs=words)
    if estimate["guesses_log10"] < MIN_GUESSES_LOG10:
        raise Refusal(
            "password_guessable",
            _l(
                "To hasło łatwo odgadnąć (popularne słowa, imiona, daty, ciągi klawiszy). "
                "Wybierz dłuższe: kilka słów, które tylko Ty łączysz."
            ),
        )
