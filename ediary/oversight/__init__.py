"""The director's oversight of the school (issue 14 item 6): what is missing from the diary."""
