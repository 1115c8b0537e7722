"""Stage 2, studio: everything that talks to Label Studio, and the embedded server itself.

``client`` is the only module that sends requests; ``server``, ``postgres`` and ``ports`` start
the embedded Label Studio; ``interface`` builds the labeling XML; ``push`` (with its local
record ``push_manifest`` and the ``gold`` tasks) creates and updates the project; ``pull``
fetches the annotations into tidy tables; ``status`` reports progress; ``review`` keeps the
adjudication project. May import: ``annotate.ingest`` and the base modules.
"""
