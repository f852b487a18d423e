"""The school administrator's staff console: accounts, roles, leavers, activation letters
(issue 14 item 1), and the office's activation letters for a class's guardians (issue 13 item 6)."""
