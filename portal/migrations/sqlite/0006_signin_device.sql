-- The Chromebook that started a sign-in, as Chrome Verified Access attested it (NULL: not
-- attested). Only an attested sign-in receives the child's ChromeOS password.
ALTER TABLE saml_pending ADD COLUMN device_id TEXT;
