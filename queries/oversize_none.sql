-- The oversize view for a root that holds no oversize object yet: same columns, no rows (see oversize.sql).
CREATE OR REPLACE VIEW oversize AS
SELECT NULL::VARCHAR AS key, NULL::STRUCT(key VARCHAR, value JSON)[] AS attributes
WHERE false;
