"""Stage 3, quality: figures computed from the pulled tables; pure pandas, no I/O, no server.

``answers`` decides which answers count (``CountedAnswers``, built once per summary);
``agreement``, ``spans``, ``aggregate`` (Dawid–Skene), ``majority``, ``gold``, ``suggestions``
compute from it; ``tables`` assembles every summary table; ``adjudication`` picks sentences for
review. May import: ``annotate.studio``, ``annotate.ingest`` and the base modules.
"""
