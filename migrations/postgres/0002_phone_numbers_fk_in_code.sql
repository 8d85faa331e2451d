-- On Postgres every foreign-key check takes a FOR KEY SHARE lock on the customer row: a write
-- per number, which made bulk imports three times slower. The store is the only writer and
-- keeps numbers consistent itself: numbers are only inserted for customers written in the same
-- transaction, and deleting a customer deletes their numbers first.
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_customer_id_fkey;
