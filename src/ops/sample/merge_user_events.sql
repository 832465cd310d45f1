-- Moves staged events in, skipping every event_id that exists. The primary
-- key includes "timestamp" (the partition key), so a key-only check would let
-- a rerun in a later month add an event again under a new timestamp.
INSERT INTO user_events
SELECT s.* FROM seed_user_events s
WHERE NOT EXISTS (SELECT 1 FROM user_events t WHERE t.event_id = s.event_id)
