"""The rules: plain functions that take the acting user explicitly, flush, and never commit."""
