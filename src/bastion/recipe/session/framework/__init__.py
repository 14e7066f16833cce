"""``verify_session`` for each framework."""
