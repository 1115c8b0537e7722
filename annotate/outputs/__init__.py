"""Stage 4, outputs: the files an analyst opens, written under ``exports/<name>/``.

``summarize`` reads the last pull, has ``annotate.quality`` compute the tables and writes the
CSVs, ``report`` (report.html), ``workbook`` (summary.xlsx); ``dictionary`` writes the folder's
README.md from ``annotate.columns``; ``snapshots`` keeps dated copies and diffs them. May import
every stage below it and the base modules.
"""
