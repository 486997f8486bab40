"""Persona report: matplotlib figures (PNG bytes), self-contained HTML and a Markdown summary."""
