"""Where the tests find the repository and the real pages."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
#: The real pages, whole (FIXTURES holds trimmed copies).
FULL_SAMPLES = FIXTURES / "full"
