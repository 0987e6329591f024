"""Import of the ledger from CSV / XLSX files, and export in the same format."""
