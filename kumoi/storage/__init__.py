"""Durable storage: a metadata store (SQLite now, PostgreSQL later) and a blob store (local disk).

Storage knows records and bytes, never HTTP, wire formats or a service's rules.
"""
