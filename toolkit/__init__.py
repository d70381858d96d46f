"""toolkit: build, validate and evaluate multiple-choice question banks.

The package is a library first; the ``toolkit`` command is a thin skin over it.
Data flows one way: ``dataset`` → ``validate`` → ``config`` → ``engine`` → ``report``,
and no lower layer imports a higher one.
"""

__version__ = "0.1.0"
