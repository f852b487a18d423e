"""Lesson topics per subject (and per stage, where grades 4-6 and 7-8 learn different things)."""

from __future__ import annotations

from ediary.demo.content import lines

TOPICS: dict[str, tuple[str, ...]] = {
    "ew": lines("""
        Jesienne liście – opisujemy obrazek
        Dodawanie i odejmowanie w zakresie 20
        Litera Ł, ł – czytamy i piszemy
        Poznajemy zegar – pełne godziny
        Mój dom i moja rodzina
        Zwierzęta leśne przygotowują się do zimy
        Czytanie ze zrozumieniem: bajka o rybaku i złotej rybce
        Mnożenie w zakresie 30
        Bezpieczna droga do szkoły
        Święto Niepodległości – symbole narodowe
        Wyrazy z ó wymiennym
        Pomiary długości – centymetr i metr
        Piszemy zaproszenie
        Warzywa i owoce – zdrowe odżywianie
        Kalendarz – dni tygodnia i miesiące
        Zadania tekstowe z treścią
        Rzeczowniki – nazwy osób, zwierząt i rzeczy
        Jesienny pejzaż – praca plastyczna
        Moja miejscowość i jej zabytki
        Ważenie – kilogram i dekagram
    """),
    "pol:young": lines("""
        Części mowy – powtórzenie wiadomości
        Rzeczownik i jego formy
        Czasownik – osoba, liczba, czas
        Przymiotnik – stopniowanie
        Opowiadanie twórcze – plan wydarzeń
        Baśń a legenda – cechy gatunku
        „Akademia pana Kleksa” – świat przedstawiony
        „Mikołajek” – humor w opowiadaniu
        Ortografia: pisownia ó i u
        Ortografia: rz i ż
        Zdanie pojedyncze i złożone
        List prywatny – budowa i zasady
        Opis postaci
        Wiersz a proza – wersy i strofy
        Dialog i jego zapis
        „W pustyni i w puszczy” – przygody Stasia i Nel
        Podmiot i orzeczenie
        Zaproszenie i ogłoszenie
    """),
    "pol:old": lines("""
        „Pan Tadeusz” – tło historyczne
        „Balladyna” – dramat romantyczny
        „Zemsta” – komizm postaci
        „Kamizelka” – nowela
        „Latarnik” – bohater i jego tęsknota
        „Opowieść wigilijna” – przemiana Scrooge'a
        Rozprawka – teza i argumenty
        Charakterystyka postaci
        Imiesłowy – odmiana i pisownia
        Zdania złożone podrzędnie
        Strona czynna i bierna
        „Mały Książę” – symbolika
        Środki stylistyczne – metafora i epitet
        Przemówienie – budowa i cechy
        „Dziady cz. II” – obrzęd i jego przesłanie
        Słowotwórstwo – wyraz podstawowy i pochodny
        „Syzyfowe prace” – walka z rusyfikacją
    """),
    "mat:young": lines("""
        Ułamki zwykłe – skracanie i rozszerzanie
        Dodawanie ułamków o różnych mianownikach
        Ułamki dziesiętne – porównywanie
        Mnożenie pisemne
        Dzielenie z resztą
        Kąty i ich rodzaje
        Pole prostokąta i kwadratu
        Obwody wielokątów
        Kolejność wykonywania działań
        Liczby całkowite na osi liczbowej
        Procenty – wprowadzenie
        Prostopadłościan i sześcian
        Zadania tekstowe – prędkość, droga, czas
        Skala i plan
        Potęgi liczb naturalnych
        Średnia arytmetyczna
        Trójkąty – rodzaje i suma kątów
    """),
    "mat:old": lines("""
        Potęgi o wykładniku naturalnym
        Pierwiastki kwadratowe
        Wyrażenia algebraiczne – redukcja wyrazów podobnych
        Równania pierwszego stopnia z jedną niewiadomą
        Twierdzenie Pitagorasa
        Procenty w zadaniach praktycznych
        Układ współrzędnych
        Proporcjonalność prosta
        Graniastosłupy – pole powierzchni
        Ostrosłupy – objętość
        Symetria osiowa i środkowa
        Koło i okrąg – długość okręgu
        Statystyka – odczytywanie diagramów
        Prawdopodobieństwo – proste doświadczenia
        Notacja wykładnicza
    """),
    "ang:young": lines("""
        Colours and numbers 1-10
        My family – a song
        Animals on the farm
        Toys – What's this?
        Autumn – weather words
        My body – Head, shoulders, knees and toes
        Food I like
        At school – classroom objects
    """),
    "ang": lines("""
        My daily routine – Present Simple
        Present Continuous – what are you doing now?
        Vocabulary: food and drinks
        Past Simple – regular verbs
        Past Simple – irregular verbs
        Comparatives and superlatives
        Going to – plans for the future
        Reading: a letter from a friend
        Listening: at the shop
        There is / there are
        Countable and uncountable nouns
        Speaking: asking for directions
        Vocabulary: my town
        Writing: an e-mail to a friend
        Can / can't – abilities
        Present Perfect – experiences
    """),
    "niem": lines("""
        Hallo! – Begrüßungen
        Zahlen von 1 bis 100
        Meine Familie
        Verben im Präsens
        In der Schule – Schulsachen
        Wie spät ist es?
        Mein Haus – Zimmer und Möbel
        Hobbys und Freizeit
        Der Artikel: der, die, das
        Essen und Trinken
    """),
    "his": lines("""
        Mieszko I i chrzest Polski
        Bolesław Chrobry – pierwszy król
        Kazimierz Wielki – zastał Polskę drewnianą
        Unia polsko-litewska
        Bitwa pod Grunwaldem
        Mikołaj Kopernik
        Jan III Sobieski i odsiecz wiedeńska
        Konstytucja 3 maja
        Rozbiory Polski
        Powstanie listopadowe
        Powstanie styczniowe na ziemi świętokrzyskiej
        Odzyskanie niepodległości w 1918 roku
        Starożytny Egipt
        Starożytna Grecja – demokracja ateńska
        Rzym – od republiki do cesarstwa
        Średniowieczne miasto i wieś
        Wielkie odkrycia geograficzne
        Rewolucja francuska
    """),
    "wos": lines("""
        Prawa człowieka i ich ochrona
        Samorząd gminny – rada gminy i wójt
        Konstytucja Rzeczypospolitej Polskiej
        Sejm i Senat
        Prezydent RP
        Rodzina i jej funkcje
        Media i opinia publiczna
        Unia Europejska
        Samorząd uczniowski
    """),
    "przyr": lines("""
        Obserwacje przyrodnicze – przyrządy
        Kierunki geograficzne i kompas
        Pogoda i jej składniki
        Rośliny w naszym otoczeniu
        Budowa ciała człowieka – układ kostny
        Higiena i zdrowie
        Stany skupienia wody
        Las – warstwy lasu
        Łąka i pole
        Krajobrazy Polski
    """),
    "bio": lines("""
        Komórka – podstawowa jednostka życia
        Fotosynteza
        Bakterie i wirusy
        Grzyby
        Mchy i paprocie
        Rośliny nasienne
        Ryby – przystosowania do życia w wodzie
        Płazy
        Ptaki
        Ssaki
        Układ krwionośny człowieka
        Układ oddechowy
        Genetyka – DNA
        Ekologia – łańcuchy pokarmowe
    """),
    "geo": lines("""
        Mapa i skala
        Współrzędne geograficzne
        Ruchy Ziemi
        Krajobrazy świata
        Góry Świętokrzyskie
        Klimat Polski
        Rolnictwo w Polsce
        Ludność Polski
        Azja – ukształtowanie powierzchni
        Afryka – strefy klimatyczne
    """),
    "chem": lines("""
        Substancje i ich właściwości
        Mieszaniny i ich rozdzielanie
        Budowa atomu
        Układ okresowy pierwiastków
        Wiązania chemiczne
        Reakcje chemiczne – równania
        Tlen i jego właściwości
        Woda – właściwości i znaczenie
        Kwasy
        Wodorotlenki
        Sole
    """),
    "fiz": lines("""
        Wielkości fizyczne i jednostki
        Ruch jednostajny prostoliniowy
        Prędkość średnia
        Siły i ich wypadkowa
        Zasady dynamiki Newtona
        Praca, moc, energia
        Gęstość materii
        Ciśnienie
        Prawo Archimedesa
        Prąd elektryczny – obwody
        Drgania i fale
    """),
    "inf": lines("""
        Bezpieczeństwo w sieci
        Edytor tekstu – formatowanie
        Arkusz kalkulacyjny – formuły
        Scratch – pętle i warunki
        Algorytmy – schemat blokowy
        Grafika komputerowa
        Prezentacja multimedialna
        Python – pierwszy program
        Wyszukiwanie informacji w internecie
        Prawo autorskie i licencje
    """),
    "tech": lines("""
        Bezpieczeństwo na drodze – karta rowerowa
        Znaki drogowe
        Rysunek techniczny – linie
        Materiały włókiennicze
        Drewno i jego obróbka
        Urządzenia elektryczne w domu
        Segregacja odpadów
    """),
    "muz": lines("""
        Hymn państwowy – historia i śpiew
        Nuty i pauzy
        Fryderyk Chopin – mazurki
        Instrumenty dęte
        Muzyka ludowa regionu świętokrzyskiego
        Rytm i metrum
        Gra na flecie – gama C-dur
        Stanisław Moniuszko
    """),
    "plast": lines("""
        Barwy podstawowe i pochodne
        Martwa natura
        Pejzaż jesienny – akwarela
        Rzeźba – formy przestrzenne
        Sztuka ludowa – wycinanki
        Portret
        Architektura regionu – opactwo cystersów w Wąchocku
        Kompozycja symetryczna
    """),
    "wf": lines("""
        Gry zespołowe – piłka siatkowa
        Piłka nożna – prowadzenie piłki
        Koszykówka – kozłowanie
        Ćwiczenia ogólnorozwojowe
        Lekkoatletyka – bieg na 60 m
        Skok w dal
        Gimnastyka – przewrót w przód
        Zabawy ruchowe z piłką
        Ćwiczenia równoważne
        Unihokej
        Tenis stołowy
    """),
    "edb": lines("""
        Pierwsza pomoc – resuscytacja
        Postępowanie w razie pożaru
        Zagrożenia naturalne
        Apteczka pierwszej pomocy
    """),
    "rel": lines("""
        Stworzenie świata
        Modlitwa w życiu chrześcijanina
        Przykazania Boże
        Adwent – czas oczekiwania
        Sakramenty święte
        Przypowieści Jezusa
        Święci patroni
        Wszystkich Świętych i Dzień Zaduszny
    """),
    "gw": lines("""
        Wybór samorządu klasowego
        Bezpieczeństwo w sieci i cyberprzemoc
        Jak radzić sobie ze stresem
        Planujemy klasową wigilię
        Kultura osobista na co dzień
        Frekwencja i oceny – podsumowanie miesiąca
        Zdrowy styl życia
        Tolerancja i szacunek
    """),
}


def topics_for(subject: str, grade: int) -> tuple[str, ...]:
    band = "young" if grade <= 6 else "old"
    if subject == "ang" and grade <= 3:
        return TOPICS["ang:young"]
    return TOPICS.get(f"{subject}:{band}") or TOPICS[subject]
