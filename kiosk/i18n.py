"""The kiosk's own small catalogue: Polish source strings, an English translation.

The kiosk is a separate program from the server (it imports nothing from `ediary`), so it does not
share the server's Flask-Babel catalogue; a dict is enough for a few dozen strings. Messages that
come from the server (refusals) arrive already translated in the server's language.
"""

from __future__ import annotations

from typing import Any

EN: dict[str, str] = {
    "opisowa": "descriptive",
    "Zapowiedź": "Announce",
    "Zapowiedź sprawdzianu lub zadania": "A test or homework",
    "Rodzaj": "Kind",
    "Sprawdzian": "Test",
    "Kartkówka": "Quiz",
    "Zadanie domowe": "Homework",
    "Dzień lekcji": "The lesson's day",
    "Zakres materiału lub treść zadania": "What it covers, or the task",
    "Termin oddania": "Due date",
    "Zapisz mimo to": "Save anyway",
    "limit!": "limit!",
    "Wybierz dzień lekcji.": "Choose the lesson's day.",
    "Wybierz: sprawdzian, kartkówka czy zadanie.": "Choose: a test, a quiz or homework.",
    "Wpisz, czego dotyczy zapowiedź.": "Say what the announcement is about.",
    "Termin oddania zadania nie może być przed lekcją.": (
        "The homework cannot be due before the lesson."
    ),
    "{kind} {date} — {about}": "{kind} {date} — {about}",
    "Wpisz ocenę opisową.": "Type the descriptive grade.",
    "Ocena opisowa jest za długa.": "The descriptive grade is too long.",
    "Poprawa {old} → {value} — {pupil}": "Improvement {old} → {value} — {pupil}",
    "Korekta {old} → {value} — {pupil}": "Correction {old} → {value} — {pupil}",
    "Usunięto ocenę {value} — {pupil}": "Grade {value} withdrawn — {pupil}",
    "Poprawić lub usunąć można tylko własną ocenę.": (
        "Only your own grade can be corrected or withdrawn."
    ),
    "Oceny ucznia": "The pupil's grades",
    "Ocena opisowa": "Descriptive grade",
    "Korekta": "Correction",
    "Poprawa": "Improvement",
    "Usuń ocenę": "Withdraw the grade",
    "Nowa ocena": "New grade",
    "Treść oceny opisowej": "The descriptive grade's text",
    "Dziennik — sala {room}": "Diary — room {room}",
    "Sala {room}": "Room {room}",
    "Teraz": "Now",
    "Następna": "Next",
    "Brak lekcji": "No lesson",
    "Zaloguj się": "Log in",
    "Login": "Login",
    "Hasło": "Password",
    "Zaloguj": "Log in",
    "Odblokuj PIN-em": "Unlock with PIN",
    "PIN": "PIN",
    "Odblokuj": "Unlock",
    "Anuluj": "Cancel",
    "Wyloguj": "Log out",
    "Zablokuj": "Lock",
    "Zakończ dzień": "End the day",
    (
        "Zmienione w międzyczasie przez kogoś innego — {what}: Twój wybór: {wanted}; zapisane:"
        " {server} ({by}, {at}, {channel})"
    ): (
        "Changed meanwhile by someone else — {what}: your choice: {wanted}; saved: {server}"
        " ({by}, {at}, {channel})"
    ),
    "Zostaw: {server}": "Keep: {server}",
    "Zapisz moje: {wanted}": "Save mine: {wanted}",
    "Zostawiono wartość z serwera.": "The server's value was kept.",
    "Zapisano Twój wybór.": "Your choice was saved.",
    "nic nie zapisano": "nothing recorded",
    "przeglądarka": "browser",
    "komputer w sali": "classroom computer",
    "administrator systemu": "system administrator",
    "system": "system",
    "import danych": "data import",
    "Wpisz temat lekcji.": "Type the lesson topic.",
    "Lekcja jeszcze się nie zaczęła. Wpisy do niej można dodawać od {when}.": (
        "The lesson has not started yet. Entries can be made from {when}."
    ),
    "Ten wpis był już zapisany z inną treścią. Zapisz go jeszcze raz.": (
        "This entry was already saved with other content. Save it again."
    ),
    "Błąd serwera: wpisu nie przyjęto. Zostanie wysłany ponownie po następnym zalogowaniu.": (
        "Server error: the entry was not accepted. It will be sent again at the next login."
    ),
    "Sesja zakończyła się. Zaloguj się ponownie.": "The session has ended. Log in again.",
    "Zapisz": "Save",
    "Temat lekcji": "Lesson topic",
    "Ocena": "Grade",
    "Uwaga": "Remark",
    "Kategoria": "Category",
    "Opis (nieobowiązkowy)": "Description (optional)",
    "Treść uwagi": "Remark text",
    "pozytywna": "positive",
    "negatywna": "negative",
    "neutralna": "neutral",
    "Połączono z serwerem": "Connected to the server",
    "Łączenie z serwerem…": "Connecting to the server…",
    "Brak połączenia z serwerem — wpisy zapisują się na tym komputerze": (
        "No connection to the server — entries are saved on this computer"
    ),
    "zapisano na tym komputerze": "saved on this computer",
    "na serwerze": "on the server",
    "dostarczono rodzicom": "delivered to parents",
    "odrzucone przez serwer": "refused by the server",
    ("Urządzenie zostało wyrejestrowane. Skontaktuj się z administratorem szkoły."): (
        "This device has been unenrolled. Contact the school administrator."
    ),
    "Urządzenie nie jest zarejestrowane.": "This device is not enrolled.",
    "Nieprawidłowy PIN.": "Wrong PIN.",
    "Za dużo błędnych prób PIN-u. Zaloguj się loginem i hasłem.": (
        "Too many wrong PINs. Log in with your login and password."
    ),
    (
        "Serwer jest niedostępny. Nauczyciel, który logował się dziś na tym komputerze, "
        "może odblokować PIN-em."
    ): (
        "The server is unreachable. A teacher who logged in on this computer today can "
        "unlock with a PIN."
    ),
    "Ekran zablokowany po {minutes} min bezczynności.": (
        "Screen locked after {minutes} min of inactivity."
    ),
    "Ekran zablokowany po zakończeniu lekcji.": "Screen locked at the end of the lesson.",
    "Wylogowano.": "Logged out.",
    "Minęło 12 godzin od logowania. Zaloguj się ponownie.": (
        "12 hours have passed since you logged in. Log in again."
    ),
    "Wpisy czekające na wysłanie: {n}": "Entries waiting to be sent: {n}",
    "Wpisy odrzucone przez serwer: {n}": "Entries refused by the server: {n}",
    "Ustaw PIN na dziś (4–8 cyfr, nieobowiązkowo)": "Set today's PIN (4–8 digits, optional)",
    "PIN musi mieć od 4 do 8 cyfr.": "The PIN must have 4 to 8 digits.",
    ("Praca bez serwera (PIN) — wpisy zostaną wysłane po odzyskaniu połączenia."): (
        "Working without the server (PIN) — entries will be sent when the connection returns."
    ),
    "Inne lekcje dzisiaj": "Other lessons today",
    "Wpisy tej lekcji": "Entries of this lesson",
    "Obecność zapisana": "Attendance saved",
    "Nie wybrano lekcji.": "No lesson selected.",
    "Brak lekcji w tej sali dla tego nauczyciela.": "No lesson for this teacher in this room now.",
    "Wybierz ocenę.": "Choose a grade.",
    "Wybierz rodzaj uwagi.": "Choose the kind of remark.",
    "Wpisz treść uwagi.": "Type the remark.",
    "Nieprawidłowe dane.": "Invalid data.",
    "Nie jesteś zalogowany.": "You are not logged in.",
    "Nie można teraz połączyć się z serwerem.": "The server cannot be reached now.",
    "Nieprawidłowy login lub hasło.": "Wrong login or password.",
    "Obecność: {what}, temat: {topic}": "Attendance: {what}, topic: {topic}",
    "Obecność: {what}": "Attendance: {what}",
    "{n} nieobecnych": "{n} absent",
    "{n} nieobecnych (w tym {excused} usprawiedliwionych)": "{n} absent ({excused} excused)",
    "{n} obecnych": "{n} present",
    "{n} inne ({names})": "{n} other ({names})",
    "bez zmian": "no changes",
    "Ocena {value} — {pupil}": "Grade {value} — {pupil}",
    "Uwaga {kind} — {pupil}": "Remark {kind} — {pupil}",
}


def translate(text: str, lang: str = "pl", **values: Any) -> str:
    if lang == "en":
        text = EN.get(text, text)
    return text.format(**values) if values else text
