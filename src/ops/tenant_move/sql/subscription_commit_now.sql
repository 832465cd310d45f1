-- Once the copy is caught up, the subscription commits what it applies synchronously, so it confirms each change to
-- the source as soon as it is applied rather than after the target's WAL writer flushes (wal_writer_delay, 200 ms):
-- the freeze waits for the last changes to be confirmed. Not from the start: one fsync per applied transaction would
-- slow the catch-up under a heavy write load. The apply worker takes the setting without restarting. $1 subscription.
SELECT format('ALTER SUBSCRIPTION %I SET (synchronous_commit = on)', $1::text)
