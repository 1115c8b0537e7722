"""studio stage."""
