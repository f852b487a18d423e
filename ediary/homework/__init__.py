"""Tests (sprawdziany, kartkówki) and homework a teacher announces for a lesson (issue 18)."""
