"""Guardians' contacts that work: an e-mail or phone receives notifications only once its owner
has proved it (a signed link by e-mail, a six-digit code by SMS); until then the previous
verified address keeps receiving."""
