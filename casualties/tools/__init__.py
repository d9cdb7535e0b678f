"""Tools around the pipeline: the benchmark and the evaluation against labelled data."""
