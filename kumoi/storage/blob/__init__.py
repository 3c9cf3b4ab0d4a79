"""Blob storage: object bytes on disk, written crash-safely."""
