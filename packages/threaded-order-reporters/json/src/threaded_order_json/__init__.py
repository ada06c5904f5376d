"""The json reporter for mtrun."""
