"""Widgets of the logpt explorer."""
