"""Data files shipped with the package: word lists, reading tables, reference text."""
