"""Stage 1, ingest: article files in, checked text and sentences out; nothing here talks to a server.

``articles`` reads .txt .md .csv .tsv .jsonl .html into ``Article`` records (``encodings`` finds
each file's codec and words its errors), ``segment`` splits an article into sentences with
stable ids and exact offsets (``parallel_split`` does it on all cores), and ``cues`` turns the
cue-rules file into suggested bias-cue spans. May import: the base modules (``config``,
``errors``, ``files``, ``starter``, ``columns``, ``cache``).
"""
