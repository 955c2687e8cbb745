"""``python -m ingest``: the same command as ``occupancy ingest``."""

import logging
import sys

from ingest.cli import app

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s %(message)s",
    stream=sys.stderr,
)
app(prog_name="occupancy ingest")
