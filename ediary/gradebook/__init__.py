"""The teacher's workspace on the web: the start page, the gradebook grid and its columns
(assessments), the list of the teacher's lessons (issue 15, items 1-3)."""
