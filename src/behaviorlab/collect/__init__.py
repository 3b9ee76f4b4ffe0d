"""OPeRA-style capture from real people: questionnaire, browser extension, ingest server,
PII masking, export to OPeRA's parquet layout, and a demo shop (issue 5)."""
