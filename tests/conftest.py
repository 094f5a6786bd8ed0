import sys
from pathlib import Path

# Test helper modules (images.py, ...) import by bare name from their folder.
for folder in ("core",):
    sys.path.insert(0, str(Path(__file__).parent / folder))
