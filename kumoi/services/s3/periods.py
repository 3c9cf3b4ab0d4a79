"""The longest period, in days, that a bucket configuration may name.

Lifecycle actions and default retentions count days from a write, and the dates they give end up
on the wire (``x-amz-expiration``, ``x-amz-abort-date``, ``ObjectLockRetainUntilDate``), where a
year has four digits. A million days (about 2,700 years) keeps every such date writable until
past the year 7000; a longer period is refused when configured, rather than stored to make every
later write and read of a matching object fail.
"""

from __future__ import annotations

MAX_PERIOD_DAYS = 1_000_000
