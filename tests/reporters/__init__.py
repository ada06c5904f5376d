"""Tests of the four reporter distributions (junit, json, structlog, progress)."""
