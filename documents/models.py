"""Meeting materials (issue 4 builds them here)."""
