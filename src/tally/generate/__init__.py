"""Generated events: the flat contract's files, and the same events as the platform's exports."""
