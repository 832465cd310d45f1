-- CPT procedure codes: a short list of code numbers common on outpatient claims, for the sample data and for tests.
-- seed: "Medical codes (CPT/ICD) reference data" loaded with descriptions; CPT descriptors are copyrighted by the
-- American Medical Association and may only be distributed under its licence, so not one is shipped. Each
-- description below is synthetic: the word "Synthetic", the code, and a broad category of our own wording, never
-- the AMA's descriptor. An organisation with a CPT licence replaces them (UPDATE ... SET description,
-- description_is_synthetic = false) from its licensed data file.

INSERT INTO claimflow_codes.cpt_codes (code, description, description_is_synthetic, category) VALUES
('99202', 'Synthetic description of CPT 99202 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99203', 'Synthetic description of CPT 99203 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99204', 'Synthetic description of CPT 99204 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99212', 'Synthetic description of CPT 99212 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99213', 'Synthetic description of CPT 99213 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99214', 'Synthetic description of CPT 99214 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99215', 'Synthetic description of CPT 99215 (office visit); AMA descriptor not licensed here', true, 'office visit'),
('99283', 'Synthetic description of CPT 99283 (emergency department); AMA descriptor not licensed here', true, 'emergency department'),
('99284', 'Synthetic description of CPT 99284 (emergency department); AMA descriptor not licensed here', true, 'emergency department'),
('99395', 'Synthetic description of CPT 99395 (preventive medicine); AMA descriptor not licensed here', true, 'preventive medicine'),
('99396', 'Synthetic description of CPT 99396 (preventive medicine); AMA descriptor not licensed here', true, 'preventive medicine'),
('36415', 'Synthetic description of CPT 36415 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('80053', 'Synthetic description of CPT 80053 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('80061', 'Synthetic description of CPT 80061 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('83036', 'Synthetic description of CPT 83036 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('85025', 'Synthetic description of CPT 85025 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('81002', 'Synthetic description of CPT 81002 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('87880', 'Synthetic description of CPT 87880 (laboratory); AMA descriptor not licensed here', true, 'laboratory'),
('71046', 'Synthetic description of CPT 71046 (radiology); AMA descriptor not licensed here', true, 'radiology'),
('73721', 'Synthetic description of CPT 73721 (radiology); AMA descriptor not licensed here', true, 'radiology'),
('70450', 'Synthetic description of CPT 70450 (radiology); AMA descriptor not licensed here', true, 'radiology'),
('93000', 'Synthetic description of CPT 93000 (cardiology); AMA descriptor not licensed here', true, 'cardiology'),
('90471', 'Synthetic description of CPT 90471 (immunization); AMA descriptor not licensed here', true, 'immunization'),
('90686', 'Synthetic description of CPT 90686 (immunization); AMA descriptor not licensed here', true, 'immunization'),
('97110', 'Synthetic description of CPT 97110 (physical medicine); AMA descriptor not licensed here', true, 'physical medicine'),
('20610', 'Synthetic description of CPT 20610 (musculoskeletal procedure); AMA descriptor not licensed here', true, 'musculoskeletal procedure'),
('11102', 'Synthetic description of CPT 11102 (integumentary procedure); AMA descriptor not licensed here', true, 'integumentary procedure'),
('45378', 'Synthetic description of CPT 45378 (digestive procedure); AMA descriptor not licensed here', true, 'digestive procedure')
ON CONFLICT (code) DO NOTHING;
