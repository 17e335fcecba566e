"""What investigators write: users, cases, notes, the audit log and the watch list."""
