//! Users, agents and policyholders: the people of a sample.
//!
//! A person (name, gender, city, birth date) is drawn from the stream of
//! their user row, so the agent or policyholder row built on top of it sees
//! the same person without storing anything. Unique columns (e-mail, phone,
//! username, agent code, licence, customer id) come from the index alone.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Date;

use super::calendar::{add_days, Stamp, DAY};
use super::copy::Rows;
use super::keys::Entity;
use super::lists::{self, one, weighted, CITIES};
use super::policies::Policy;
use super::scale::{self, agent_of_holder, first_policy, Rank};
use super::world::World;

/// Who a user is, before any account details.
pub struct Person {
    pub first: &'static str,
    pub last: &'static str,
    pub male: bool,
    pub city: usize,
    pub born: Date,
}

fn draw_person(rng: &mut ChaCha8Rng, city: usize, anchor: Date, min_age: i64, max_age: i64) -> Person {
    let male = rng.random_ratio(11, 20);
    let first = if male { one(rng, lists::MALE_NAMES) } else { one(rng, lists::FEMALE_NAMES) };
    let last = one(rng, lists::LAST_NAMES);
    let age_days = rng.random_range(min_age * 365..max_age * 365);
    Person { first, last, male, city, born: add_days(anchor, -age_days) }
}

/// The home city of a regional block of agents.
pub fn region_city(w: &World, block: u64) -> usize {
    w.keys.rng(Entity::Region, block).random_range(0..CITIES.len() as u32) as usize
}

/// Agent `k` as a person, and the rest of their user row's stream.
pub fn agent_person(w: &World, k: u64) -> (Person, ChaCha8Rng) {
    let mut rng = w.keys.rng(Entity::AgentUser, k);
    let person = draw_person(&mut rng, region_city(w, scale::block(k)), w.anchor, 25, 60);
    (person, rng)
}

/// Policyholder `j` as a person: mostly living in their agent's city.
pub fn holder_person(w: &World, j: u64) -> (Person, ChaCha8Rng) {
    let mut rng = w.keys.rng(Entity::HolderUser, j);
    let city = match rng.random_ratio(4, 5) {
        true => region_city(w, scale::block(agent_of_holder(j))),
        false => rng.random_range(0..CITIES.len() as u32) as usize,
    };
    let person = draw_person(&mut rng, city, w.anchor, 21, 66);
    (person, rng)
}

/// One `users` row: agents' users come first (`index < agents`).
pub fn user(w: &World, index: u64, rows: &mut Rows) {
    let agents = w.scale.agents;
    let is_agent = index < agents;
    let n = if is_agent { index } else { index - agents };
    let (person, mut rng) = if is_agent { agent_person(w, n) } else { holder_person(w, n) };
    let (entity, kind, role, phone, joined) = if is_agent {
        (Entity::AgentUser, "agent", scale::rank(n).0.role(), 9_800_000_000 + n, agent_stream(w, n).0)
    } else {
        let joined = Policy::generate(w, first_policy(n)).created;
        (Entity::HolderUser, "holder", "policyholder", 6_000_000_000 + n, joined)
    };
    rows.uuid(w.keys.id(entity, n));
    rows.fmt(format_args!("{kind}{n}@{}.example", w.code)).fmt(format_args!("+91{phone}"));
    // '!' matches no password hash: sample users cannot log in.
    rows.fmt(format_args!("{kind}{n}")).put("!");
    rows.put(person.first).put(person.last).fmt(format_args!("{} {}", person.first, person.last));
    rows.put(person.born).put(if person.male { "male" } else { "female" });
    address(rows, person.city, &mut rng);
    rows.put(weighted(&mut rng, lists::LANGUAGES));
    let verified = is_agent || rng.random_ratio(9, 10);
    rows.put(verified).put(verified).put(role);
    rows.put(if is_agent || rng.random_ratio(49, 50) { "active" } else { "pending_verification" });
    rows.put(w.anchor_stamp().plus(-rng.random_range(0..60 * DAY)));
    rows.put(joined);
    rows.end();
}

/// When agent `k` joined (one to twelve years before the anchor), and the
/// rest of the agent row's stream.
fn agent_stream(w: &World, k: u64) -> (Stamp, ChaCha8Rng) {
    let mut rng = w.keys.rng(Entity::Agent, k);
    let joined = w.anchor_stamp().plus(-rng.random_range(365 * DAY..12 * 365 * DAY));
    (joined, rng)
}

fn address(rows: &mut Rows, city: usize, rng: &mut ChaCha8Rng) {
    let (name, state, pin) = CITIES[city];
    let pincode = pin * 1000 + rng.random_range(1..100);
    rows.fmt(format_args!(r#"{{"city": "{name}", "state": "{state}", "pincode": "{pincode}", "country": "IN"}}"#));
}

/// One `agents` row.
pub fn agent(w: &World, k: u64, rows: &mut Rows) {
    let (person, _) = agent_person(w, k);
    let (joined, mut rng) = agent_stream(w, k);
    let (rank, parent) = scale::rank(k);
    let (city, state, _) = CITIES[person.city];
    rows.uuid(w.keys.id(Entity::Agent, k)).uuid(w.keys.id(Entity::AgentUser, k)).opt(w.providers.own());
    rows.fmt(format_args!("{}-AG-{k:06}", w.prefix)).fmt(format_args!("IRDAI/{}/{k:07}", w.prefix));
    rows.put(add_days(w.anchor, rng.random_range(30..3 * 365))).put("IRDAI");
    rows.fmt(format_args!("{} Insurance Services", person.last));
    address(rows, person.city, &mut rng);
    rows.put(pan(&mut rng, person.last)).put(city).fmt(format_args!("{{\"{state}\"}}"));
    let tenure_years = (w.anchor_stamp().0 - joined.0) / (365 * DAY);
    rows.put(tenure_years + rng.random_range(0..8));
    let specialization = one(&mut rng, lists::SPECIALIZATIONS);
    rows.fmt(format_args!("{{term_life,{specialization}}}"));
    let commission_bp = match rank {
        Rank::RegionalHead => rng.random_range(200..=350),
        Rank::Senior => rng.random_range(500..=750),
        Rank::Junior => rng.random_range(1000..=1500),
    };
    rows.money(commission_bp).fmt(format_args!("+91{}", 9_800_000_000 + k));
    rows.fmt(format_args!("agent{k}@{}.example", w.code)).money(rng.random_range(350..=500));
    rows.opt(parent.map(|p| w.keys.id(Entity::Agent, p))).put(rank.level());
    rows.put(if rng.random_ratio(49, 50) { "active" } else { "suspended" }).put("verified");
    rows.put(joined.plus(rng.random_range(2 * DAY..30 * DAY))).put(joined);
    rows.end();
}

/// A PAN-shaped string: five letters (fourth 'P' for a person, fifth the
/// surname's initial), four digits, one letter.
fn pan(rng: &mut ChaCha8Rng, last: &str) -> String {
    let letter = |rng: &mut ChaCha8Rng| (b'A' + rng.random_range(0..26u8)) as char;
    let (a, b, c) = (letter(rng), letter(rng), letter(rng));
    let initial = last.chars().next().unwrap_or('X');
    format!("{a}{b}{c}P{initial}{:04}{}", rng.random_range(0..10_000), letter(rng))
}

/// One `policyholders` row.
pub fn holder(w: &World, j: u64, rows: &mut Rows) {
    let (person, _) = holder_person(w, j);
    let mut rng = w.keys.rng(Entity::Holder, j);
    let age = (w.anchor - person.born).whole_days() / 365;
    let married = age > 26 && rng.random_ratio(4, 5);
    let salutation = match (person.male, married) {
        (true, _) => "Mr",
        (false, true) => "Mrs",
        (false, false) => "Ms",
    };
    rows.uuid(w.keys.id(Entity::Holder, j)).uuid(w.keys.id(Entity::HolderUser, j));
    rows.uuid(w.keys.id(Entity::Agent, agent_of_holder(j)));
    rows.fmt(format_args!("{}C{j:08}", w.prefix)).put(salutation);
    rows.put(if married { "married" } else { "single" }).put(one(&mut rng, lists::OCCUPATIONS));
    rows.money(rng.random_range(300_000..5_000_000) * 100).put(one(&mut rng, lists::EDUCATION));
    let tolerance = *one(&mut rng, &["conservative", "moderate", "aggressive"]);
    let horizon = *one(&mut rng, &["short", "medium", "long"]);
    rows.fmt(format_args!(r#"{{"tolerance": "{tolerance}", "horizon": "{horizon}"}}"#)).put(horizon);
    let whatsapp = rng.random_ratio(4, 5);
    rows.fmt(format_args!(r#"{{"email": true, "sms": true, "whatsapp": {whatsapp}}}"#));
    rows.put(rng.random_ratio(7, 10));
    nominee(rows, &mut rng, married);
    rows.put(one(&mut rng, &["morning", "afternoon", "evening"]));
    rows.put(weighted(&mut rng, lists::LANGUAGES)).put(rng.random_range(1..=10));
    rows.money(rng.random_range(0..=100)).put("completed").money(rng.random_range(0..=100));
    rows.put(w.anchor_stamp().plus(-rng.random_range(0..180 * DAY))).put(rng.random_range(0..60));
    rows.put(Policy::generate(w, first_policy(j)).created);
    rows.end();
}

/// `nominee_details`: spouse when married, else a parent or sibling.
pub fn nominee(rows: &mut Rows, rng: &mut ChaCha8Rng, married: bool) {
    let relationship = if married { "spouse" } else { *one(rng, &["mother", "father", "brother", "sister"]) };
    let female = matches!(relationship, "mother" | "sister") || (married && rng.random_ratio(1, 2));
    let first = if female { one(rng, lists::FEMALE_NAMES) } else { one(rng, lists::MALE_NAMES) };
    let last = one(rng, lists::LAST_NAMES);
    rows.fmt(format_args!(r#"{{"name": "{first} {last}", "relationship": "{relationship}", "share_percent": 100}}"#));
}
