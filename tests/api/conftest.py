"""The API tests use the small world of the case tests (one item, a citizen, staff of two departments)."""

from cases.conftest import _fast_passwords, calendar, world  # noqa: F401  (fixtures)
