"""Stage between quality and outputs, model: a text classifier learnt from the final labels.

``annotate learn`` trains one classifier per choice field (``stance_<target>``,
``sentence_type``) on the final labels that ``annotate.quality`` computes (the rows of
``sentence_labels.csv`` with a label; gold sentences included), evaluates it by
cross-validation with folds grouped by article, and keeps it with a model card in the exports
folder. CPU only, no download, no torch: TF-IDF features and a logistic regression
(scikit-learn), every step seeded so that the same labels and seed give the same model.

``classifier`` is the estimator (``SentenceClassifier``); ``evaluate`` the article-grouped
cross-validation and its figures (``cross_validate_field``, ``check_trainable``,
``expected_calibration_error``); ``card`` trains every field and describes the result
(``train_fields``, ``ModelCard``, ``compare``); ``store`` saves and loads a model folder
(``save_model``, ``load_model``); ``predict`` applies a saved model to corpora that never go
to Label Studio (``annotate predict``), with ``batch`` computing every field's probabilities for
a batch at once (``BatchPredictor``). May import: ``annotate.quality``, ``annotate.studio``,
``annotate.ingest`` and the base modules; ``annotate.outputs`` and the commands may import it.
"""
