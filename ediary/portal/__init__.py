"""The parents' portal: phone-first pages about a parent's own children, kept live over /live.

The numbers (averages and how they were computed, attendance and its warning, finals, remarks)
come from the same read models as the pupil card (`schools.queries.pupil_card`); this package adds
what a parent needs first on a phone: today's lessons, what is new, and a switch between children.
"""
