"""The form tutor's class ("Moja klasa"): attendance, averages, who is at risk of
non-classification, the excuses queue and the guardians' contacts (issue 15, item 6)."""
