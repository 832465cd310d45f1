-- Until blueprint packs this file was provision's own migration V6 (its comments still use those numbers:
-- V3, V4, V6, V7, V8, V9 there are V1, V2, V3, V4, V5, V6 here). A database made then records it in
-- provision.refinery_schema_history with the checksum below; `provision up` re-records it in this blueprint's
-- shared history. The statements are unchanged, byte for byte.
-- provision:replaces-core-version 6 checksum 3102283619749673847

-- Reference rows for the seed 001 §2.1 / §2.3 / §2.5 tables created in V3 (the rows V3 says are "loaded elsewhere").
-- seed: the design document defines these tables but ships no rows; the rows below are added here.
-- Every statement is an upsert on the table's UNIQUE natural key, and the DO UPDATE only fires when a
-- value actually differs, so running this file again changes nothing (not even a row version).
-- Operational columns (status, integration/approval state, credentials) are set on first insert only,
-- so a re-run never overrides what an operator changed since.

-- Countries. country_code is ISO 3166-1 alpha-3 (VARCHAR(3), per the seed's own column comment), not alpha-2.
INSERT INTO shared.countries AS c (country_code, country_name, currency_code, phone_code, timezone)
VALUES
    ('IND', 'India',                'INR', '+91',  'Asia/Kolkata'),
    ('USA', 'United States',        'USD', '+1',   'America/New_York'),
    ('GBR', 'United Kingdom',       'GBP', '+44',  'Europe/London'),
    ('ARE', 'United Arab Emirates', 'AED', '+971', 'Asia/Dubai'),
    ('SGP', 'Singapore',            'SGD', '+65',  'Asia/Singapore')
ON CONFLICT (country_code) DO UPDATE
    SET country_name  = EXCLUDED.country_name,
        currency_code = EXCLUDED.currency_code,
        phone_code    = EXCLUDED.phone_code,
        timezone      = EXCLUDED.timezone
    WHERE (c.country_name, c.currency_code, c.phone_code, c.timezone)
          IS DISTINCT FROM (EXCLUDED.country_name, EXCLUDED.currency_code, EXCLUDED.phone_code, EXCLUDED.timezone);

-- Languages (ISO 639-1 codes; native names in their own scripts; none of these scripts is right-to-left).
INSERT INTO shared.languages AS l (language_code, language_name, native_name, rtl)
VALUES
    ('en', 'English',   'English',  false),
    ('hi', 'Hindi',     'हिन्दी',    false),
    ('ta', 'Tamil',     'தமிழ்',     false),
    ('te', 'Telugu',    'తెలుగు',    false),
    ('bn', 'Bengali',   'বাংলা',     false),
    ('mr', 'Marathi',   'मराठी',     false),
    ('gu', 'Gujarati',  'ગુજરાતી',    false),
    ('kn', 'Kannada',   'ಕನ್ನಡ',     false),
    ('ml', 'Malayalam', 'മലയാളം',   false),
    ('pa', 'Punjabi',   'ਪੰਜਾਬੀ',     false)
ON CONFLICT (language_code) DO UPDATE
    SET language_name = EXCLUDED.language_name,
        native_name   = EXCLUDED.native_name,
        rtl           = EXCLUDED.rtl
    WHERE (l.language_name, l.native_name, l.rtl)
          IS DISTINCT FROM (EXCLUDED.language_name, EXCLUDED.native_name, EXCLUDED.rtl);

-- Insurance product categories (category_code = category_type, the four types the seed's column comment lists).
INSERT INTO shared.insurance_categories AS ic (category_code, category_name, category_type, description)
VALUES
    ('life',    'Life Insurance',    'life',    'Term, endowment, whole-life, money-back and unit-linked life cover'),
    ('health',  'Health Insurance',  'health',  'Hospitalisation, critical-illness and personal-accident cover'),
    ('general', 'General Insurance', 'general', 'Non-life cover for property, travel, liability and other risks'),
    ('motor',   'Motor Insurance',   'motor',   'Third-party liability and own-damage cover for private and commercial vehicles')
ON CONFLICT (category_code) DO UPDATE
    SET category_name = EXCLUDED.category_name,
        category_type = EXCLUDED.category_type,
        description   = EXCLUDED.description
    WHERE (ic.category_name, ic.category_type, ic.description)
          IS DISTINCT FROM (EXCLUDED.category_name, EXCLUDED.category_type, EXCLUDED.description);

-- Insurance providers (IRDAI-regulated life insurers, all headquartered in Mumbai; established_year = year of incorporation).
-- api_endpoint, api_credentials, webhook_secret, license_number stay NULL: integration details are configured per deployment, never in a migration.
INSERT INTO shared.insurance_providers AS p (
    provider_code, provider_name, provider_type, description,
    regulatory_authority, established_year, headquarters,
    supported_languages, service_regions
)
VALUES
    ('LIC', 'Life Insurance Corporation of India', 'life_insurance',
     'State-owned life insurer, formed by the Life Insurance Corporation Act, 1956',
     'IRDAI', 1956, '{"city": "Mumbai", "state": "Maharashtra", "country": "IND"}'::jsonb,
     ARRAY['en', 'hi', 'ta', 'te', 'bn', 'mr', 'gu', 'kn', 'ml', 'pa'], ARRAY['IND']),
    ('HDFC_LIFE', 'HDFC Life Insurance Company Limited', 'life_insurance',
     'Private life insurer promoted by HDFC',
     'IRDAI', 2000, '{"city": "Mumbai", "state": "Maharashtra", "country": "IND"}'::jsonb,
     ARRAY['en', 'hi'], ARRAY['IND']),
    ('ICICI_PRUDENTIAL', 'ICICI Prudential Life Insurance Company Limited', 'life_insurance',
     'Private life insurer, joint venture of ICICI Bank and Prudential',
     'IRDAI', 2000, '{"city": "Mumbai", "state": "Maharashtra", "country": "IND"}'::jsonb,
     ARRAY['en', 'hi'], ARRAY['IND']),
    ('SBI_LIFE', 'SBI Life Insurance Company Limited', 'life_insurance',
     'Life insurer promoted by State Bank of India',
     'IRDAI', 2000, '{"city": "Mumbai", "state": "Maharashtra", "country": "IND"}'::jsonb,
     ARRAY['en', 'hi'], ARRAY['IND'])
ON CONFLICT (provider_code) DO UPDATE
    SET provider_name        = EXCLUDED.provider_name,
        provider_type        = EXCLUDED.provider_type,
        description          = EXCLUDED.description,
        regulatory_authority = EXCLUDED.regulatory_authority,
        established_year     = EXCLUDED.established_year,
        headquarters         = EXCLUDED.headquarters,
        supported_languages  = EXCLUDED.supported_languages,
        service_regions      = EXCLUDED.service_regions,
        updated_at           = now()
    WHERE (p.provider_name, p.provider_type, p.description, p.regulatory_authority,
           p.established_year, p.headquarters, p.supported_languages, p.service_regions)
          IS DISTINCT FROM
          (EXCLUDED.provider_name, EXCLUDED.provider_type, EXCLUDED.description, EXCLUDED.regulatory_authority,
           EXCLUDED.established_year, EXCLUDED.headquarters, EXCLUDED.supported_languages, EXCLUDED.service_regions);

-- WhatsApp templates. template_name is already UNIQUE (V3, as in the seed), so it is the conflict target and no
-- constraint is added. Bodies use WhatsApp's positional {{n}} placeholders; "variables" names each position.
-- DO NOTHING: once a template is submitted to WhatsApp its approved body must not be rewritten under it
-- (approval_status / whatsapp_template_id are set by the approval flow, starting from the default 'pending').
INSERT INTO shared.whatsapp_templates (template_name, category, language, content, variables)
VALUES
    ('policy_renewal_reminder', 'utility', 'en',
     'Dear {{1}}, the premium of INR {{2}} for your policy {{3}} is due on {{4}}. Please pay before the due date to keep your cover active.',
     '{"1": "customer_name", "2": "premium_amount", "3": "policy_number", "4": "due_date"}'::jsonb),
    ('payment_confirmation', 'utility', 'en',
     'Dear {{1}}, we have received your payment of INR {{2}} for policy {{3}} on {{4}}. Transaction reference: {{5}}. Thank you.',
     '{"1": "customer_name", "2": "amount", "3": "policy_number", "4": "payment_date", "5": "transaction_reference"}'::jsonb),
    ('policy_issued', 'utility', 'en',
     'Dear {{1}}, your policy {{2}} ({{3}}) has been issued, with cover starting on {{4}}. Your agent {{5}} will share the policy document with you.',
     '{"1": "customer_name", "2": "policy_number", "3": "plan_name", "4": "start_date", "5": "agent_name"}'::jsonb)
ON CONFLICT (template_name) DO NOTHING;
