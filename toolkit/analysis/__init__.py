"""What a bank author asks after a score: how sure is it, which questions, is the key right, is A better than B.

Pure functions over run folders, read through one reader (:mod:`toolkit.analysis.runs`):

* :mod:`~toolkit.analysis.stats` — Wilson intervals, the exact binomial (McNemar) test, Holm's correction;
* :mod:`~toolkit.analysis.uncertainty` — ``n`` and a 95 % interval for every summary row;
* :mod:`~toolkit.analysis.panel` — questions lined up across models and runs (same data, or paired by id);
* :mod:`~toolkit.analysis.items` — item statistics (difficulty, discrimination, chosen options, position bias);
* :mod:`~toolkit.analysis.audit` — the answer-key audit and the items to review;
* :mod:`~toolkit.analysis.compare` — runs side by side with paired exact McNemar tests.

It reads what the engine wrote and never imports torch or transformers.
"""
