-- 0004: search terms stored on the request.
--
-- The bigram index was an expression index: every insert ran search_bigrams() (PL/pgSQL,
-- a subquery per call) inside index maintenance, about a quarter of PostgreSQL's CPU per
-- created request, and substr() made it quadratic in the text's length (a 10,000-character
-- description took a quarter of a second).  The terms are now a column: deskd computes
-- those of title and description at intake (core/search.c, the same cut), the create
-- statement adds those of the number, and edits recompute them in SQL.
DROP INDEX requests_text;

-- Linear: the text is split into characters once and each is paired with the next.
-- Distinct, so long texts store each pair once (GIN keeps each key once anyway).
CREATE OR REPLACE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN coalesce((SELECT array_agg(DISTINCT b) FROM
                        (SELECT c || lead(c) OVER (ORDER BY i) AS b
                         FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u(c, i)) s
                     WHERE b IS NOT NULL), '{}');
END $$;

ALTER TABLE requests ADD COLUMN search_terms text[] NOT NULL DEFAULT '{}';
UPDATE requests SET search_terms = search_bigrams(coalesce(title, '') || ' ' || description || ' ' || number);
ALTER TABLE requests ALTER COLUMN search_terms DROP DEFAULT;
CREATE INDEX requests_text ON requests USING gin (search_terms);

INSERT INTO schema_version (version) VALUES (4);
