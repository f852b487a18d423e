"""Excuse requests (usprawiedliwienia): a parent asks, the form tutor decides in bulk, and the
approved absences turn excused through the diary's own operation."""
