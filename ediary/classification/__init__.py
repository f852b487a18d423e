"""Classification (klasyfikacja): proposed and final term/year grades, the council's calendar."""
