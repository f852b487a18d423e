"""The demo district as plain data: schools, rooms, classes, staff, pupils and their families.

Nothing here touches a database. A seeded PRNG makes the same district on every run, so the demo
accounts the README lists always exist with the same children and classes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from ediary.demo import names
from ediary.demo.timetable import Assignment, Entry, assign_teachers, schedule, specialties

SEED = 20260901

DISTRICTS = ("Gmina Mirzec", "Gmina Wąchock")
DISTRICT_LOGINS = ("gmina.mirzec", "gmina.wachock")


@dataclass(frozen=True)
class SchoolSpec:
    district: int
    name: str
    short_name: str
    parallel: int  # classes per year group
    pupils: int
    rooms: int
    teachers: int
    # The school whose director and secretary also run this one (a "zespół" of two small schools).
    office_with: str | None = None


# Real villages of the two gminas; the schools' sizes and everything in them are invented.
# Totals: 94 rooms, 139 teachers, 1,900 pupils; 8 offices (director + secretary) for 10 schools.
SCHOOLS = (
    SchoolSpec(0, "Szkoła Podstawowa w Mirzcu", "SP Mirzec", 2, 392, 15, 23),
    SchoolSpec(0, "Szkoła Podstawowa w Małyszynie", "SP Małyszyn", 1, 168, 8, 12),
    SchoolSpec(0, "Szkoła Podstawowa w Tychowie Starym", "SP Tychów Stary", 1, 176, 8, 12),
    SchoolSpec(0, "Szkoła Podstawowa w Trębowcu Dużym", "SP Trębowiec", 1, 136, 8, 12),
    SchoolSpec(0, "Szkoła Podstawowa w Gadce", "SP Gadka", 1, 144, 8, 12),
    SchoolSpec(0, "Szkoła Podstawowa w Ostrożance", "SP Ostrożanka", 1, 120, 8, 11, "SP Gadka"),
    SchoolSpec(1, "Szkoła Podstawowa w Wąchocku", "SP Wąchock", 2, 376, 15, 23),
    SchoolSpec(1, "Szkoła Podstawowa w Parszowie", "SP Parszów", 1, 160, 8, 12),
    SchoolSpec(1, "Szkoła Podstawowa w Marculach", "SP Marcule", 1, 112, 8, 11),
    SchoolSpec(
        1, "Szkoła Podstawowa w Wielkiej Wsi", "SP Wielka Wieś", 1, 116, 8, 11, "SP Marcule"
    ),
)
MIN_CLASS, MAX_CLASS = 12, 28
SPECIAL_ROOMS = {
    "gym": "sala gimnastyczna",
    "computers": "pracownia komputerowa",
    "science": "pracownia przyrodnicza",
}


@dataclass
class Person:
    first_name: str
    last_name: str
    login: str = ""


@dataclass
class Teacher(Person):
    school: int = 0
    specialty: str = ""


@dataclass
class Office(Person):
    """A director or a secretary, for one school or two."""

    schools: list[int] = field(default_factory=list)


@dataclass
class Room:
    school: int
    name: str
    kind: str  # "general", or a key of SPECIAL_ROOMS


@dataclass
class SchoolClass:
    school: int
    name: str
    grade: int
    size: int
    tutor: int = -1  # a teacher index
    home_room: int | None = None  # a room index


@dataclass
class Pupil:
    school: int
    klass: int
    first_name: str
    last_name: str
    family: int


@dataclass
class Family:
    children: list[int] = field(default_factory=list)
    guardians: list[int] = field(default_factory=list)


@dataclass
class District:
    schools: list[SchoolSpec]
    rooms: list[Room] = field(default_factory=list)
    classes: list[SchoolClass] = field(default_factory=list)
    teachers: list[Teacher] = field(default_factory=list)
    directors: list[Office] = field(default_factory=list)
    secretaries: list[Office] = field(default_factory=list)
    district_admins: list[Person] = field(default_factory=list)
    pupils: list[Pupil] = field(default_factory=list)
    parents: list[Person] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    unplaced_hours: int = 0


def build(scale: float = 1.0) -> District:
    """The whole district; `scale` < 1 keeps fewer schools with fewer pupils (for quick tests)."""
    if not 0 < scale <= 1:
        raise ValueError("scale must be in (0, 1]")
    rng = random.Random(SEED)
    district = District(schools=_schools(scale))
    for index, spec in enumerate(district.schools):
        _add_school(rng, district, index, spec, scale)
    _add_offices(rng, district)
    district.district_admins = [
        Person("Halina", "Siwiec", DISTRICT_LOGINS[0]),
        Person("Tadeusz", "Rogala", DISTRICT_LOGINS[1]),
    ]
    for index in range(len(district.schools)):
        _add_families(rng, district, index)
    _name_accounts(district)
    return district


def _schools(scale: float) -> list[SchoolSpec]:
    """At a smaller scale: fewer schools (each gmina keeps one), each with one class a year."""
    if scale == 1:
        return list(SCHOOLS)
    wanted = max(2, round(len(SCHOOLS) * scale))
    firsts = [next(s for s in SCHOOLS if s.district == d) for d in range(len(DISTRICTS))]
    rest = [s for s in SCHOOLS if s not in firsts]
    kept = set(firsts + rest[: wanted - len(firsts)])
    return [
        replace(s, parallel=1, rooms=min(s.rooms, 8), teachers=min(s.teachers, 12))
        for s in SCHOOLS
        if s in kept
    ]


def _sizes(rng: random.Random, pupils: int, classes: int, low: int) -> list[int]:
    """Class sizes that vary like real ones and add up to exactly `pupils`."""
    mean = pupils / classes
    sizes = [min(MAX_CLASS, max(low, round(mean + rng.uniform(-3.5, 3.5)))) for _ in range(classes)]
    while sum(sizes) != pupils:
        step = 1 if sum(sizes) < pupils else -1
        candidates = [i for i, s in enumerate(sizes) if low <= s + step <= MAX_CLASS]
        sizes[rng.choice(candidates)] += step
    return sizes


def _female_share(specialty: str) -> float:
    return {"early": 0.97, "religion": 0.5, "pe": 0.45}.get(specialty, 0.78)


def _add_school(
    rng: random.Random, district: District, school: int, spec: SchoolSpec, scale: float
) -> None:
    first_room = len(district.rooms)
    for kind in ("gym", "computers", "science")[: 2 if spec.rooms < 12 else 3]:
        district.rooms.append(Room(school, SPECIAL_ROOMS[kind], kind))
    general = spec.rooms - (len(district.rooms) - first_room)
    general_rooms = list(range(len(district.rooms), len(district.rooms) + general))
    district.rooms.extend(Room(school, str(n), "general") for n in range(1, general + 1))

    grades = [g for g in range(1, 9) for _ in range(spec.parallel)]
    low = MIN_CLASS if scale == 1 else 2
    sizes = _sizes(rng, max(len(grades) * low, round(spec.pupils * scale)), len(grades), low)
    first_class = len(district.classes)
    for position, (grade, size) in enumerate(zip(grades, sizes, strict=True)):
        letter = "abcd"[position % spec.parallel]
        # The youngest have a room of their own; the oldest move between rooms.
        home = general_rooms[position] if position < len(general_rooms) else None
        district.classes.append(
            SchoolClass(school, f"{grade}{letter}", grade, size, home_room=home)
        )
    class_ids = list(range(first_class, len(district.classes)))

    first_teacher = len(district.teachers)
    for specialty in specialties(grades, spec.teachers):
        female = rng.random() < _female_share(specialty)
        district.teachers.append(
            Teacher(
                names.adult_name(rng, female),
                names.surname_for(rng.choice(names.SURNAMES), female),
                school=school,
                specialty=specialty,
            )
        )
    teacher_ids = list(range(first_teacher, len(district.teachers)))
    assignments, tutors = assign_teachers(
        rng,
        [(c, district.classes[c].grade) for c in class_ids],
        [(t, district.teachers[t].specialty) for t in teacher_ids],
    )
    for class_id, tutor in tutors.items():
        district.classes[class_id].tutor = tutor
    first_assignment = len(district.assignments)
    district.assignments.extend(assignments)
    entries, unplaced = schedule(
        rng,
        assignments,
        first_assignment,
        {c: district.classes[c].home_room for c in class_ids},
        {r: district.rooms[r].kind for r in range(first_room, len(district.rooms))},
    )
    district.entries.extend(entries)
    district.unplaced_hours += unplaced


def _add_offices(rng: random.Random, district: District) -> None:
    by_name = {spec.short_name: i for i, spec in enumerate(district.schools)}
    offices: list[list[int]] = []
    for index, spec in enumerate(district.schools):
        partner = by_name.get(spec.office_with or "")
        if partner is None:
            offices.append([index])
        else:
            next(o for o in offices if partner in o).append(index)
    for schools in offices:
        for roles, female_share in ((district.directors, 0.7), (district.secretaries, 0.95)):
            female = rng.random() < female_share
            roles.append(
                Office(
                    names.adult_name(rng, female),
                    names.surname_for(rng.choice(names.SURNAMES), female),
                    schools=list(schools),
                )
            )


def _add_families(rng: random.Random, district: District, school: int) -> None:
    """Pupils come in families: most have two guardians, and siblings share them."""
    seats = [
        c
        for c, klass in enumerate(district.classes)
        if klass.school == school
        for _ in range(klass.size)
    ]
    rng.shuffle(seats)
    while seats:
        family = Family()
        district.families.append(family)
        family_id = len(district.families) - 1
        surname = rng.choice(names.SURNAMES)
        roll = rng.random()
        children = 1 if roll < 0.8 else 2 if roll < 0.97 else 3
        chosen = [seats.pop()]
        for _ in range(children - 1):
            grades = {district.classes[c].grade for c in chosen}
            other = next(
                (
                    i
                    for i in range(len(seats) - 1, -1, -1)
                    if district.classes[seats[i]].grade not in grades
                ),
                None,
            )
            if other is not None:
                chosen.append(seats.pop(other))
        for klass in chosen:
            female = rng.random() < 0.5
            district.pupils.append(
                Pupil(
                    school,
                    klass,
                    names.child_name(rng, female),
                    names.surname_for(surname, female),
                    family_id,
                )
            )
            family.children.append(len(district.pupils) - 1)
        guardians = [True, False] if rng.random() < 0.95 else [rng.random() < 0.8]
        for female in guardians:
            # Now and then a mother keeps her own surname.
            last = rng.choice(names.SURNAMES) if female and rng.random() < 0.1 else surname
            district.parents.append(
                Person(names.adult_name(rng, female), names.surname_for(last, female))
            )
            family.guardians.append(len(district.parents) - 1)


def _name_accounts(district: District) -> None:
    """Memorable logins; the demo ones (number 1) are chosen so that each shows something.

    rodzic1 has two or more children in the first school, one of them in grades 4-8;
    nauczyciel1 teaches that child, has lessons every weekday and is not its form tutor;
    wychowawca1 is that child's form tutor.
    """
    family_id, child = _demo_family(district, school=0)
    klass = district.pupils[child].klass
    tutor = district.classes[klass].tutor
    teacher = _demo_teacher(district, klass, exclude=tutor)
    numbers = iter(range(2, len(district.teachers) + 2))
    for index, person in enumerate(district.teachers):
        if index == teacher:
            person.login = "nauczyciel1"
        elif index == tutor:
            person.login = "wychowawca1"
        else:
            person.login = f"nauczyciel{next(numbers)}"
    for role, prefix in ((district.directors, "dyrektor"), (district.secretaries, "sekretariat")):
        for number, office in enumerate(role, start=1):
            office.login = f"{prefix}{number}"
    demo_parent = district.families[family_id].guardians[0]
    numbers = iter(range(2, len(district.parents) + 2))
    for index, parent in enumerate(district.parents):
        parent.login = "rodzic1" if index == demo_parent else f"rodzic{next(numbers)}"


def _demo_family(district: District, school: int) -> tuple[int, int]:
    """A family with several children in `school`, one in grades 4-8: (family, that child)."""
    for family_id, family in enumerate(district.families):
        pupils = [district.pupils[p] for p in family.children]
        if len(pupils) < 2 or any(p.school != school for p in pupils):
            continue
        older = [
            p for p in family.children if district.classes[district.pupils[p].klass].grade >= 4
        ]
        if older and len(family.guardians) == 2:
            return family_id, older[0]
    raise LookupError("no family fits the demo parent")


def _demo_teacher(district: District, klass: int, exclude: int) -> int:
    """The teacher with the most hours in `klass` among those with lessons every weekday."""
    days: dict[int, set[int]] = {}
    hours: dict[int, int] = {}
    for entry in district.entries:
        assignment = district.assignments[entry.assignment]
        days.setdefault(assignment.teacher, set()).add(entry.weekday)
        if assignment.klass == klass:
            hours[assignment.teacher] = hours.get(assignment.teacher, 0) + 1
    candidates = [t for t in hours if t != exclude and len(days[t]) == 5]
    if not candidates:
        raise LookupError("no teacher fits the demo teacher")
    return max(candidates, key=lambda t: (hours[t], -t))
