-- Sample app events; field order = events::event. session_id stays NULL (no sample sessions).
COPY seed_user_events (event_id, user_id, event_type, event_category, event_action, event_label, event_properties,
                       event_value, page_url, referrer_url, device_info, location_info, "timestamp")
FROM STDIN
