"""Runnable examples: ``python -m tensorlab.examples.digits``."""
