-- Until blueprint packs this file was provision's own migration V3 (its comments still use those numbers:
-- V3, V4, V6, V7, V8, V9 there are V1, V2, V3, V4, V5, V6 here). A database made then records it in
-- provision.refinery_schema_history with the checksum below; `provision up` re-records it in this blueprint's
-- shared history. The statements are unchanged, byte for byte.
-- provision:replaces-core-version 3 checksum 1827505205173540339

-- Seed 001 §2.1 "System Reference Data", §2.3 "Insurance Providers", §2.5 WhatsApp templates.
-- Tables only: reference data rows are loaded elsewhere.

-- Countries and regions
CREATE TABLE shared.countries (
    country_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    country_code VARCHAR(3) UNIQUE NOT NULL, -- ISO 3166-1 alpha-3
    country_name VARCHAR(100) NOT NULL,
    currency_code VARCHAR(3), -- ISO 4217
    phone_code VARCHAR(5),
    timezone VARCHAR(50),
    status VARCHAR(20) DEFAULT 'active'
);

-- Languages supported
CREATE TABLE shared.languages (
    language_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    language_code VARCHAR(10) UNIQUE NOT NULL, -- ISO 639-1
    language_name VARCHAR(100) NOT NULL,
    native_name VARCHAR(100),
    rtl BOOLEAN DEFAULT false, -- Right-to-left
    status VARCHAR(20) DEFAULT 'active'
);

-- Insurance product categories
CREATE TABLE shared.insurance_categories (
    category_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    category_code VARCHAR(20) UNIQUE NOT NULL,
    category_name VARCHAR(100) NOT NULL,
    category_type VARCHAR(50), -- 'life', 'health', 'general', 'motor'
    description TEXT,
    status VARCHAR(20) DEFAULT 'active'
);

-- seed: CREATE TYPE provider_status_enum came after the table using it, unqualified; created first, in schema shared
CREATE TYPE shared.provider_status_enum AS ENUM ('active', 'inactive', 'suspended', 'under_maintenance');

-- Insurance providers (shared across tenants)
CREATE TABLE shared.insurance_providers (
    provider_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_code VARCHAR(20) UNIQUE NOT NULL, -- LIC, HDFC_LIFE, ICICI_PRUDENTIAL
    provider_name VARCHAR(255) NOT NULL,
    provider_type VARCHAR(50), -- 'life_insurance', 'health_insurance', 'general_insurance'
    description TEXT,

    -- API Integration
    api_endpoint VARCHAR(500),
    api_credentials JSONB, -- Encrypted sensitive data
    webhook_url VARCHAR(500),
    webhook_secret VARCHAR(255),

    -- Business details
    license_number VARCHAR(100),
    regulatory_authority VARCHAR(100), -- IRDAI, etc.
    established_year INTEGER,
    headquarters JSONB,

    -- Operational settings
    supported_languages TEXT[] DEFAULT ARRAY['en'],
    business_hours JSONB,
    service_regions TEXT[],
    commission_structure JSONB,

    -- Status and metadata
    status shared.provider_status_enum DEFAULT 'active',
    integration_status VARCHAR(50) DEFAULT 'pending', -- 'pending', 'testing', 'active'
    last_sync_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT NOW(),
    updated_at TIMESTAMP DEFAULT NOW()
);

-- WhatsApp templates (seed §2.5)
CREATE TABLE shared.whatsapp_templates (
    template_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    template_name VARCHAR(100) UNIQUE NOT NULL,
    category VARCHAR(50), -- 'marketing', 'utility', 'authentication'
    language VARCHAR(10) DEFAULT 'en',
    content TEXT NOT NULL,
    variables JSONB,
    approval_status VARCHAR(50) DEFAULT 'pending',
    whatsapp_template_id VARCHAR(255),
    created_at TIMESTAMP DEFAULT NOW()
);
