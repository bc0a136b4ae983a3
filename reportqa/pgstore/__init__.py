"""The index in PostgreSQL with pgvector: shared by many app servers, built by many workers.

db: connections and migrations. index: the read side (PgIndex, what a query asks).
build: the corpus directory → the queue, workers that embed from it, and progress.
"""
