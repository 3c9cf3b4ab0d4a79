"""S3 Control: account-level S3 settings (today: the account's Block Public Access)."""
