-- Customers and the phone numbers that identify them when they call.
-- A customer has one or more numbers; a number (E.164) belongs to exactly one customer.
CREATE TABLE customers (
    customer_id    TEXT    PRIMARY KEY NOT NULL,
    name           TEXT    NOT NULL,
    loyalty_points INTEGER NOT NULL CHECK (loyalty_points >= 0),
    is_vip         BOOLEAN NOT NULL CHECK (is_vip IN (0, 1)),
    updated_at     TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE phone_numbers (
    e164        TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE ON UPDATE CASCADE,
    CHECK (e164 GLOB '+[1-9]*' AND length(e164) BETWEEN 4 AND 16)
);

-- The lookup key: one owner per number.
CREATE UNIQUE INDEX phone_numbers_e164_key ON phone_numbers (e164);
CREATE INDEX phone_numbers_customer_id_idx ON phone_numbers (customer_id);
