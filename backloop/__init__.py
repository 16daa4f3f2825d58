"""backloop: local code review with a live feedback loop to a coding agent."""

__version__ = "0.1.0"
