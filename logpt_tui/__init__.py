"""logpt's terminal front ends: the Typer CLI (`logpt`) and, later, the Textual app.

This is the only package that knows about terminals.
"""
