"""Parents' privacy rights (issue 17 item 5): who looked at a child's record."""
