"""Placeholder: naive loop implementations (being written)."""
