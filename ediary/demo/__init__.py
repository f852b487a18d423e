"""The demo district: gminas Mirzec and Wąchock, their schools, people and weeks of history.

`plan.py` decides the district in plain Python with a seeded PRNG (the same district every time),
`timetable.py` places the weekly lessons without double booking, `history.py` invents what happened
in past lessons, and `seed.py` writes it all to a database in one transaction. `accounts.py` names
the demo logins; `names.py` and `content.py` hold the Polish words the data is made of.
"""
