-- A number may belong to several customers (a household landline, a company switchboard): the
-- key becomes the pair, still led by the number, so a lookup reads a number's owners side by
-- side, in customer id order. Every existing row is carried over as it is.
CREATE TABLE phone_numbers_new (
    e164        TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE ON UPDATE CASCADE,
    CHECK (e164 GLOB '+[1-9]*' AND length(e164) BETWEEN 4 AND 21),
    PRIMARY KEY (e164, customer_id)
) WITHOUT ROWID;

INSERT INTO phone_numbers_new (e164, customer_id)
    SELECT e164, customer_id FROM phone_numbers ORDER BY e164;

DROP TABLE phone_numbers;
ALTER TABLE phone_numbers_new RENAME TO phone_numbers;

CREATE INDEX phone_numbers_customer_id_idx ON phone_numbers (customer_id);
