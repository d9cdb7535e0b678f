"""Running the pipeline: batches of a run, stage clock, summary, process pool, memory."""
