"""The gmina (district administrator): the 8:15 board, figures across schools, the schools of the
gmina and their calendars. Aggregates only: no page here shows a pupil or a parent (DESIGN.md)."""
