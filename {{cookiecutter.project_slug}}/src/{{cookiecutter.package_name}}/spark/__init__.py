"""Apache Spark for data past one machine: ingest and batch scoring, same contract, same answers.

The model is still scikit-learn: Spark reads, validates, samples and scores the rows in
parallel, a partition at a time, with the same functions as the pandas path.
"""
