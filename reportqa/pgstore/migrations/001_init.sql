-- The index in PostgreSQL: reports, their chunks (text, jieba tokens, vector), BM25 term
-- statistics, the build queue and the manifest. Applied once, in order, by reportqa.pgstore.db.
CREATE EXTENSION IF NOT EXISTS vector;

-- What built the index (embedding model, chunker, user dictionary) and its generation, as key/value.
CREATE TABLE manifest (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
INSERT INTO manifest VALUES ('generation', '0'), ('n_chunks', '0'), ('n_tokens', '0');

-- One row a report; its chunks are written in the same transaction, so a report is visible whole or not at all.
CREATE TABLE reports (
    id          serial PRIMARY KEY,
    source      text NOT NULL UNIQUE,
    fingerprint text NOT NULL,   -- its bytes and metadata row (reportqa.store.fingerprints)
    sha256      text NOT NULL,
    meta        jsonb NOT NULL,
    text        text NOT NULL    -- cleaned text, for the which-towns scan and for reading
);

CREATE TABLE chunks (
    id        bigserial PRIMARY KEY,
    report_id integer NOT NULL REFERENCES reports ON DELETE CASCADE,
    ord       integer NOT NULL,  -- position in its report
    body      jsonb NOT NULL,    -- the Chunk record but its text
    text      text NOT NULL,
    n_tokens  integer NOT NULL,  -- jieba tokens of the embedded text (BM25's document length)
    years     integer[] NOT NULL,-- years its section or text speaks of
    embedding vector NOT NULL
);
CREATE INDEX chunks_report ON chunks (report_id, ord);
CREATE INDEX chunks_years ON chunks USING gin (years);

-- The inverted index BM25 reads: each token's chunks with its count there (tf) and the chunk's
-- length, so a query reads the postings of its tokens only; report_id lets filters apply here.
CREATE TABLE postings (
    token     text NOT NULL,
    chunk_id  bigint NOT NULL,   -- deleted with its report (pgstore.build.remove_report)
    report_id integer NOT NULL,
    tf        smallint NOT NULL,
    dl        integer NOT NULL,
    PRIMARY KEY (token, chunk_id) INCLUDE (report_id, tf, dl)  -- a query reads this index alone
);
CREATE INDEX postings_chunk ON postings (chunk_id);

-- Document frequency of every token, kept with the chunks in each report's transaction.
CREATE TABLE terms (
    token text PRIMARY KEY,
    df    integer NOT NULL
);

-- Reports waiting to be embedded; a worker holds a row lock (FOR UPDATE SKIP LOCKED) while it
-- embeds, so a killed worker's report returns to the queue when its connection drops.
CREATE TABLE queue (
    source      text PRIMARY KEY,
    fingerprint text NOT NULL,
    sha256      text NOT NULL,
    meta        jsonb NOT NULL,
    text        text NOT NULL,
    chunks      jsonb NOT NULL,  -- the report's Chunk records, cut by the coordinator; workers embed them
    queued_at   timestamptz NOT NULL DEFAULT now()
);
