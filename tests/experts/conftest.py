"""Fixtures for these tests come from tests/verticals.py (shared with tests/discovery/)."""

from verticals import (
    default_verticals,
    fresh_process,
    fresh_rankings,
    make_creator,
    vertical_text,
    vertical_text_fixture,
)

__all__ = ["default_verticals", "fresh_process", "fresh_rankings", "make_creator", "vertical_text", "vertical_text_fixture"]
