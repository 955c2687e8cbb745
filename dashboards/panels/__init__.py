"""One module per panel group; each exposes ``panels() -> list[Json]``."""
