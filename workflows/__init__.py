"""Gessin's rules, as plain Python that the admin and the intake API both call."""
