"""Meetings, the 次第 and attendance (issue 3 builds them here)."""
