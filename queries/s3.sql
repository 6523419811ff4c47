-- S3 access for an s3:// audit root: httpfs and aws extensions and a secret from DuckDB's credential chain
-- (environment, shared config and SSO profiles, instance roles). No key is ever written here or stored in clear.
INSTALL httpfs;
LOAD httpfs;
INSTALL aws;
LOAD aws;
CREATE OR REPLACE SECRET audit_s3 (TYPE s3, PROVIDER credential_chain);
