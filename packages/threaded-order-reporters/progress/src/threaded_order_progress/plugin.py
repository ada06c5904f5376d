"""Entry point of the progress reporter (to be written)."""
