-- BODY and BODYSTRUCTURE now give parameters that are not ASCII RFC 2231-encoded (`NAME*`,
-- `utf-8''...`) instead of as UTF-8 literals. The stored strings are made again: the backfill
-- at start recomputes every blob's facts, and until it reaches one, FETCH computes them from
-- the message itself. The header block (message_headers) did not change.
DELETE FROM message_facts;
