"""Storage: reading raw/ (with quarantine), the atomic store of Parquet tables, merges."""
