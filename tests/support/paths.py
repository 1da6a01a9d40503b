"""Where the repository and Intuit's reference files (../shared/reference) are."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"
