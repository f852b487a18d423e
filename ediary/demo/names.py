"""Polish first names and surnames for the demo people (invented combinations, common names)."""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Children born 2012-2019: the names most given in those years.
GIRLS = _words(
    "Zuzanna Julia Lena Maja Hanna Zofia Amelia Alicja Aleksandra Natalia Oliwia Wiktoria "
    "Maria Nikola Laura Pola Emilia Antonina Gabriela Martyna Weronika Nadia Marcelina Helena "
    "Liliana Kornelia Iga Michalina Jagoda Milena Anna Karolina Klara Ewa"
)
BOYS = _words(
    "Antoni Jan Jakub Aleksander Franciszek Szymon Filip Mikołaj Wojciech Kacper Adam Michał "
    "Stanisław Wiktor Piotr Igor Leon Nikodem Marcel Bartosz Tymon Oskar Ignacy Kamil Dawid "
    "Mateusz Maksymilian Tomasz Hubert Krzysztof Olaf Dominik Miłosz Julian"
)
# Parents and teachers, born 1965-1995.
WOMEN = _words(
    "Anna Katarzyna Małgorzata Agnieszka Monika Joanna Magdalena Ewa Beata Justyna Marta "
    "Dorota Sylwia Iwona Karolina Paulina Edyta Aneta Renata Agata Barbara Elżbieta Urszula "
    "Izabela Emilia Natalia Kamila Marzena Jolanta Bożena Grażyna Teresa Halina"
)
MEN = _words(
    "Piotr Krzysztof Tomasz Paweł Marcin Michał Grzegorz Łukasz Marek Rafał Dariusz Jacek "
    "Robert Adam Mariusz Sławomir Artur Wojciech Sebastian Dawid Andrzej Jarosław Zbigniew "
    "Damian Przemysław Kamil Daniel Mateusz Bartłomiej Waldemar Ryszard Janusz Leszek"
)
# The masculine form (`feminine` derives the other); the last few are common around Starachowice.
SURNAMES = _words(
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
    "Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski "
    "Nowakowski Pawłowski Michalski Nowicki Adamczyk Dudek Zając Wieczorek Jabłoński Król "
    "Majewski Olszewski Jaworski Wróbel Malinowski Pawlak Witkowski Walczak Stępień Górski "
    "Rutkowski Michalak Sikora Ostrowski Baran Duda Szewczyk Tomaszewski Pietrzak Marciniak "
    "Wróblewski Zalewski Jakubowski Jasiński Zawadzki Sadowski Bąk Chmielewski Włodarczyk "
    "Borkowski Czarnecki Sawicki Sokołowski Urbański Kubiak Maciejewski Szczepański Kucharski "
    "Wilk Kalinowski Lis Mazurek Wysocki Adamski Kaźmierczak Wasilewski Sobczak Czerwiński "
    "Andrzejewski Cieślak Głowacki Zakrzewski Kołodziej Sikorski Krajewski Gajewski Szymczak "
    "Szulc Baranowski Laskowski Brzeziński Makowski Ziółkowski Przybylski Siwiec Sulej "
    "Gołąbek Rogala Banaś Jagiełło Kępa Zych Fortuna Pająk Sałek Kałuża Materek Trzos Kopeć "
    "Dziuba Kutyła Piwnik Mierzwa Bilski Łukasik Styczeń Żak Kozieł Szwed Nosek Pyrek"
)

_FEMININE_ENDINGS = (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka"))


def feminine(surname: str) -> str:
    """Kowalski → Kowalska; surnames that are not adjectives (Nowak, Mazur) do not change."""
    for masculine, feminine_ending in _FEMININE_ENDINGS:
        if surname.endswith(masculine):
            return surname[: -len(masculine)] + feminine_ending
    return surname


def surname_for(surname: str, female: bool) -> str:
    return feminine(surname) if female else surname


def child_name(rng: random.Random, female: bool) -> str:
    return rng.choice(GIRLS if female else BOYS)


def adult_name(rng: random.Random, female: bool) -> str:
    return rng.choice(WOMEN if female else MEN)
