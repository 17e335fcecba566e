"""Settings a user edits: the controlled-items catalogue, the scoring and the resolution settings."""
