-- Numbers as long as libphonenumber calls possible: a calling code and up to 17 national digits
-- (E.164's 15 digits are not enough for every possible German or Japanese number). SQLite cannot
-- change a CHECK in place, so the numbers table is rebuilt with the wider one.
CREATE TABLE phone_numbers_new (
    e164        TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE ON UPDATE CASCADE,
    CHECK (e164 GLOB '+[1-9]*' AND length(e164) BETWEEN 4 AND 21)
) WITHOUT ROWID;

INSERT INTO phone_numbers_new (e164, customer_id)
    SELECT e164, customer_id FROM phone_numbers ORDER BY e164;

DROP TABLE phone_numbers;
ALTER TABLE phone_numbers_new RENAME TO phone_numbers;

CREATE INDEX phone_numbers_customer_id_idx ON phone_numbers (customer_id);
