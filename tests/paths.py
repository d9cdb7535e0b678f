"""Where tests find their data: the repository, its golden files and the shared dev data.

The shared data (`../shared/data` beside the repository: the seed article and the labelled dev
sets) is read-only input that is not part of the repository; tests that need it skip when it is
missing (see the `shared_data` fixture in conftest.py).
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
SHARED_DATA = REPO.parent / "shared" / "data"
DEV = SHARED_DATA / "dev"
RAW = REPO / "raw"
