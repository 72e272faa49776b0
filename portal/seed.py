"""Demo data (placeholder, being written)."""


def register_cli(app) -> None:
    """Register the seed commands."""
