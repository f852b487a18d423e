"""Messages (wiadomości) between parents and school staff, and announcements (ogłoszenia)."""
