-- Numbers as long as libphonenumber calls possible: a calling code and up to 17 national digits
-- (E.164's 15 digits are not enough for every possible German or Japanese number).
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_e164_check;
ALTER TABLE phone_numbers
    ADD CONSTRAINT phone_numbers_e164_check CHECK (e164 ~ '^\+[1-9][0-9]{2,19}$');
