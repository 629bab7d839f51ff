"""CSV import of contacts and companies: mapping, preview, dry run, de-duplication, report."""
