//! User events: app activity of sample users, spread over the partition
//! window of `user_events` so every row lands in a real (non-default)
//! partition.

use rand::Rng;

use super::calendar::Stamp;
use super::copy::Rows;
use super::keys::Entity;
use super::lists::{self, one, weighted, weighted_by, CITIES};
use super::people::{agent_person, holder_person};
use super::scale::{actor_of_event, Actor};
use super::world::World;

/// One `user_events` row; `window` is `[from, to)`.
pub fn event(w: &World, window: (Stamp, Stamp), e: u64, rows: &mut Rows) {
    let mut rng = w.keys.rng(Entity::Event, e);
    let actor = actor_of_event(e, &mut rng);
    let (user, city) = match actor {
        Actor::Agent(k) => (w.keys.id(Entity::AgentUser, k), agent_person(w, k).0.city),
        Actor::Holder(j) => (w.keys.id(Entity::HolderUser, j), holder_person(w, j).0.city),
    };
    let (kind, category, action, page) = weighted(&mut rng, lists::EVENTS);
    rows.uuid(w.keys.id(Entity::Event, e)).uuid(user);
    rows.put(kind).put(category).put(action);
    let value = details(w, rows, &mut rng, kind, e);
    rows.opt(value.map(|rupees| format!("{rupees}.00")));
    rows.fmt(format_args!("https://app.{}.example{page}", w.code));
    match rng.random_ratio(1, 3) {
        true => rows.fmt(format_args!("https://app.{}.example/home", w.code)),
        false => rows.null(),
    };
    let (platform, model, _) = *weighted_by(&mut rng, lists::DEVICES, |d| d.2);
    let version = rng.random_range(0..6u32);
    rows.fmt(format_args!(r#"{{"platform": "{platform}", "model": "{model}", "app_version": "3.{version}.0"}}"#));
    let (city, state, _) = CITIES[city];
    rows.fmt(format_args!(r#"{{"city": "{city}", "state": "{state}", "country": "IN"}}"#));
    let span = window.1 .0 - window.0 .0;
    rows.put(window.0.plus(rng.random_range(0..span.max(1))));
    rows.end();
}

/// `event_label` and `event_properties` for the kind of event; returns the
/// event's value in rupees when it has one (payments).
fn details(w: &World, rows: &mut Rows, rng: &mut impl Rng, kind: &str, e: u64) -> Option<i64> {
    match kind {
        "policy_view" | "document_download" => {
            // Among the policies of the smallest sample holding this event, so
            // the row does not depend on --sample.
            let policy = rng.random_range(0..=e);
            rows.fmt(format_args!("{}-P-{policy:08}", w.prefix));
            rows.fmt(format_args!(r#"{{"policy_number": "{}-P-{policy:08}"}}"#, w.prefix));
            None
        }
        "search" => {
            let query = one(rng, lists::SEARCHES);
            rows.put(query).fmt(format_args!(r#"{{"query": "{query}", "results": {}}}"#, rng.random_range(0..25)));
            None
        }
        "premium_payment" => {
            let rupees = 500 * rng.random_range(1..=100);
            let (method, _) = weighted(rng, lists::PAYMENT_CHANNELS);
            rows.put(method).fmt(format_args!(r#"{{"method": "{method}", "currency": "INR"}}"#));
            Some(rupees)
        }
        "video_play" => {
            let video = rng.random_range(1..=40);
            rows.fmt(format_args!("video-{video}"));
            rows.fmt(format_args!(
                r#"{{"video_id": "video-{video}", "watched_seconds": {}}}"#,
                rng.random_range(5..600)
            ));
            None
        }
        "app_error" => {
            let code = one(rng, &["PAY_TIMEOUT", "NETWORK_ERROR", "SESSION_EXPIRED"]);
            rows.put(code).fmt(format_args!(r#"{{"code": "{code}"}}"#));
            None
        }
        _ => {
            rows.null().put(r#"{"source": "app"}"#);
            None
        }
    }
}
