"""Running the stages: in order, with timings, recorded in the run ledger."""
