"""Parents' accounts: a one-time activation code from the school, the parent's own password, and
password reset (a new code from the school, or a signed link by e-mail)."""
