-- Every committed change to customers or their numbers announces itself on the channel
-- customer_lookup_changes, whoever makes it (the service, an import, another tool in plain SQL),
-- so that every serving instance drops what it cached for those numbers at once.
--
-- The payload is the affected numbers, comma-separated, or '*' when a statement touched more
-- than 100 of them (an import): then instances drop their whole cache. Notifications are sent at
-- commit and never for a rolled-back change. Statement-level triggers with transition tables
-- keep a bulk statement to one notification.

CREATE FUNCTION customer_lookup_announce(numbers text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF numbers IS NULL OR cardinality(numbers) = 0 THEN
        RETURN;
    ELSIF cardinality(numbers) > 100 THEN
        PERFORM pg_notify('customer_lookup_changes', '*');
    ELSE
        PERFORM pg_notify('customer_lookup_changes', array_to_string(numbers, ','));
    END IF;
END $$;

-- A number added, moved to another customer, or removed.
CREATE FUNCTION customer_lookup_numbers_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    numbers text[];
BEGIN
    -- Each branch names only the transition tables its trigger has.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(e164) INTO numbers FROM (SELECT e164 FROM changed_new LIMIT 101) s;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(e164) INTO numbers FROM (SELECT e164 FROM changed_old LIMIT 101) s;
    ELSE
        SELECT array_agg(e164) INTO numbers FROM (
            SELECT e164 FROM changed_old UNION SELECT e164 FROM changed_new LIMIT 101) s;
    END IF;
    PERFORM customer_lookup_announce(numbers);
    RETURN NULL;
END $$;

-- A customer's answer changed (name, points, VIP) or the customer went: their numbers answer
-- differently now.
CREATE FUNCTION customer_lookup_customers_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    numbers text[];
BEGIN
    SELECT array_agg(e164) INTO numbers FROM (
        SELECT p.e164 FROM phone_numbers p
        WHERE p.customer_id IN (SELECT customer_id FROM changed_old)
        LIMIT 101) s;
    -- A customer without numbers answers no lookup; numbers deleted with their customer were
    -- announced by their own trigger.
    PERFORM customer_lookup_announce(numbers);
    RETURN NULL;
END $$;

CREATE TRIGGER phone_numbers_inserted AFTER INSERT ON phone_numbers
    REFERENCING NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_numbers_changed();
CREATE TRIGGER phone_numbers_updated AFTER UPDATE ON phone_numbers
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_numbers_changed();
CREATE TRIGGER phone_numbers_deleted AFTER DELETE ON phone_numbers
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_numbers_changed();

CREATE TRIGGER customers_updated AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_customers_changed();
CREATE TRIGGER customers_deleted AFTER DELETE ON customers
    REFERENCING OLD TABLE AS changed_old
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_customers_changed();

-- TRUNCATE has no transition tables: it empties everything.
CREATE FUNCTION customer_lookup_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('customer_lookup_changes', '*');
    RETURN NULL;
END $$;
CREATE TRIGGER phone_numbers_truncated AFTER TRUNCATE ON phone_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_truncated();
CREATE TRIGGER customers_truncated AFTER TRUNCATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION customer_lookup_truncated();
