"""From labelled sentences to statements about a corpus: shares with intervals, classical and
model-assisted (prediction-powered inference), by group, and the differences between groups."""
