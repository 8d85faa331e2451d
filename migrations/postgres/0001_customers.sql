-- Customers and the phone numbers that identify them when they call.
-- A customer has one or more numbers; a number (E.164) belongs to exactly one customer.
CREATE TABLE customers (
    customer_id    TEXT        PRIMARY KEY,
    name           TEXT        NOT NULL,
    loyalty_points BIGINT      NOT NULL CHECK (loyalty_points >= 0),
    is_vip         BOOLEAN     NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE phone_numbers (
    e164        TEXT NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{2,14}$'),
    customer_id TEXT NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE ON UPDATE CASCADE
);

-- The lookup key: one owner per number.
CREATE UNIQUE INDEX phone_numbers_e164_key ON phone_numbers (e164);
CREATE INDEX phone_numbers_customer_id_idx ON phone_numbers (customer_id);
