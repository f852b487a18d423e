"""What the demo schools teach and write: subjects, weekly hours, topics, remarks, descriptions.

The weekly hours follow the framework teaching plan for primary schools (ramowy plan nauczania,
2017, as schools usually split the hours between the years); topics follow the core curriculum
closely enough to look right to a teacher.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SubjectInfo:
    short: str
    name: str
    specialty: str  # which teachers teach it (see timetable.SPECIALTIES)
    room: str | None = None  # a room kind the lesson wants, if any


SUBJECTS: tuple[SubjectInfo, ...] = (
    SubjectInfo("ew", "edukacja wczesnoszkolna", "early"),
    SubjectInfo("pol", "język polski", "polish"),
    SubjectInfo("ang", "język angielski", "languages"),
    SubjectInfo("niem", "język niemiecki", "languages"),
    SubjectInfo("mat", "matematyka", "maths"),
    SubjectInfo("fiz", "fizyka", "maths", "science"),
    SubjectInfo("inf", "informatyka", "maths", "computers"),
    SubjectInfo("przyr", "przyroda", "science", "science"),
    SubjectInfo("bio", "biologia", "science", "science"),
    SubjectInfo("geo", "geografia", "science"),
    SubjectInfo("chem", "chemia", "science", "science"),
    SubjectInfo("his", "historia", "humanities"),
    SubjectInfo("wos", "wiedza o społeczeństwie", "humanities"),
    SubjectInfo("muz", "muzyka", "humanities"),
    SubjectInfo("plast", "plastyka", "humanities"),
    SubjectInfo("tech", "technika", "humanities"),
    SubjectInfo("wf", "wychowanie fizyczne", "pe", "gym"),
    SubjectInfo("edb", "edukacja dla bezpieczeństwa", "pe"),
    SubjectInfo("rel", "religia", "religion"),
    SubjectInfo("gw", "godzina wychowawcza", "tutor"),
)
SUBJECT_BY_SHORT = {s.short: s for s in SUBJECTS}


def _hours(text: str) -> dict[str, int]:
    """Reads "pol 5 mat 4" as {"pol": 5, "mat": 4}."""
    words = text.split()
    return {subject: int(hours) for subject, hours in zip(words[::2], words[1::2], strict=True)}


_EARLY = _hours("ew 14 wf 3 ang 2 rel 2")
_MIDDLE = _hours("pol 5 ang 3 muz 1 plast 1 his 2 bio 1 geo 1 mat 4 inf 1 tech 1 wf 4 rel 2 gw 1")
WEEKLY_HOURS: dict[int, dict[str, int]] = {
    1: _EARLY,
    2: _EARLY,
    3: _EARLY,
    4: _hours("pol 5 ang 3 muz 1 plast 1 his 1 przyr 2 mat 4 inf 1 tech 1 wf 4 rel 2 gw 1"),
    5: _MIDDLE,
    6: _MIDDLE,
    7: _hours(
        "pol 4 ang 3 niem 2 muz 1 plast 1 his 2 bio 2 geo 2 chem 2 fiz 2 mat 4 inf 1 wf 4 rel 2"
        " gw 1"
    ),
    8: _hours(
        "pol 4 ang 3 niem 2 his 2 wos 2 bio 1 geo 1 chem 2 fiz 2 mat 4 inf 1 edb 1 wf 4 rel 2 gw 1"
    ),
}

# Subjects with a written test (sprawdzian) in a few weeks, and those with quizzes (kartkówki).
QUIZZED = frozenset({"pol", "mat", "ang", "niem", "his", "przyr", "bio", "geo", "chem", "fiz"})
TESTED = QUIZZED | {"wos"}


def lines(text: str) -> tuple[str, ...]:
    """The non-empty lines of a text block, stripped."""
    return tuple(line.strip() for line in text.strip().splitlines() if line.strip())


REMARKS: dict[str, tuple[str, ...]] = {
    "positive": lines("""
        Pomoc koledze w nauce przed sprawdzianem.
        Wzorowe przygotowanie do konkursu przedmiotowego.
        Aktywny udział w zbiórce nakrętek dla hospicjum.
        Pomoc w przygotowaniu apelu z okazji Święta Niepodległości.
        Bardzo dobra praca w grupie podczas lekcji.
        Reprezentowanie szkoły w gminnych zawodach sportowych.
        Pomoc przy dekorowaniu sali.
        Przygotowanie dodatkowej prezentacji na lekcję.
        Wyjątkowa kultura osobista wobec kolegów i nauczycieli.
    """),
    "negative": lines("""
        Rozmowy na lekcji mimo upomnień.
        Korzystanie z telefonu komórkowego podczas lekcji.
        Kolejny raz brak zeszytu i podręcznika.
        Niewykonanie polecenia nauczyciela.
        Przeszkadzanie w prowadzeniu lekcji.
        Bieganie po korytarzu podczas przerwy mimo upomnień.
        Spóźnienie na lekcję po przerwie.
        Niszczenie szkolnej ławki.
        Niestosowne słownictwo wobec kolegi.
    """),
    "neutral": lines("""
        Zgłosił(a) złe samopoczucie, odesłany(a) do pielęgniarki szkolnej.
        Przypomnienie o zwrocie zgody na wycieczkę do Kielc.
        Udział w próbie przedstawienia jasełek.
        Zmiana miejsca w ławce na prośbę ucznia.
    """),
}

DESCRIPTIVE_GRADES = lines("""
    Czyta płynnie i ze zrozumieniem.
    Samodzielnie dodaje i odejmuje w zakresie 20.
    Starannie pisze, dba o estetykę zeszytu.
    Potrzebuje jeszcze ćwiczyć tabliczkę mnożenia.
    Chętnie wypowiada się na forum klasy.
    Popełnia błędy przy przepisywaniu – warto ćwiczyć w domu.
    Bardzo ładna, staranna praca plastyczna.
    Zna pełne godziny na zegarze, ćwiczy kwadranse.
    Rozwiązuje zadania tekstowe z niewielką pomocą.
    Pięknie recytuje wiersz z pamięci.
    Pracuje w szybkim tempie, ale czasem niedokładnie.
""")

# Grade descriptions by category name (GradeCategory names come from schools.operations).
DESCRIPTIONS = {
    "odpowiedź": "Odpowiedź ustna",
    "praca domowa": "Praca domowa",
    "aktywność": "Aktywność na lekcji",
    "np": "Nieprzygotowanie do lekcji",
    "bz": "Brak zadania domowego",
}
