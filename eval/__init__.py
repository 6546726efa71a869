"""Metrics and reports: segmentation and labelling scores (pure Python and numpy, no torch)."""
