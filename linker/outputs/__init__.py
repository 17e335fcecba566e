"""What people read: the result files, the morning report, the evidence pack and the dashboard's reads."""
