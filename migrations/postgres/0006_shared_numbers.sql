-- A number may belong to several customers (a household landline, a company switchboard): the
-- unique key becomes the pair, still led by the number, so a lookup reads a number's owners
-- from the index alone, in customer id order. Existing rows are untouched; the index keeps its
-- name.
CREATE UNIQUE INDEX phone_numbers_e164_customer_key ON phone_numbers (e164, customer_id);
DROP INDEX phone_numbers_e164_key;
ALTER INDEX phone_numbers_e164_customer_key RENAME TO phone_numbers_e164_key;
