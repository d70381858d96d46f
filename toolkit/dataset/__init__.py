"""Question banks on disk: the C-Eval layout, the subject mapping, reading and writing sheets.

This layer never imports torch, pandas-heavy engines or anything above it.
"""
