"""Metadata storage behind one contract; SQLite is the embedded default."""
