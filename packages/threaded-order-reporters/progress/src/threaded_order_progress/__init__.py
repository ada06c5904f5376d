"""The progress reporter for mtrun."""
