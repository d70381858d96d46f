"""Reports of a run: summary tables (txt, csv, md, terminal) and the HTML report.

The top of the data flow: it reads the engine's summaries and result records and
never imports torch or transformers.
"""
