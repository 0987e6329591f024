"""Reports read from the ledger (and later from every domain): aging and overdue interest.

The command-line group lives in cli.py; the tables behind it in aging.py and interest.py, and
the file formats of the report contract in output.py. See docs/reports.md.
"""
