"""What every page shares: running an operation from a form (`pages.perform`) and the record of
sent forms that makes a second sending harmless (`models.SentForm`)."""
