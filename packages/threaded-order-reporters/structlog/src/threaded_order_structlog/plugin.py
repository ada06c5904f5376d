"""Entry point of the structlog reporter (to be written)."""
