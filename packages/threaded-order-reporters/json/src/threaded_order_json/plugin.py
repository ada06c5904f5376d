"""Entry point of the json reporter (to be written)."""
