"""Renderers: handout (HTML → PDF with WeasyPrint) and deck (PPTX with python-pptx)."""
