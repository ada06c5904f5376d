"""The structlog reporter for mtrun."""
