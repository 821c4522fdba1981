"""manyi: user-satisfaction award programs from paper to certificate."""

__version__ = "0.1.0"
