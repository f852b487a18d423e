"""Two-factor login for staff (issue 14 item 1): a TOTP authenticator app (RFC 6238, pyotp)
plus ten single-use recovery codes. Required for school administrators, secretaries and
district administrators, optional for teachers; the kiosk keeps its PIN."""
