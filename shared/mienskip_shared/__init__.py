"""Common plumbing for the Mienskip services: event contracts, messaging, settings.

No business rules live here: they would couple three releases (STYLE.md, rule 10).
"""
