//! Policies and their premium payments.
//!
//! A policy is generated whole (type, money, dates, installment history)
//! from its own stream, so the policy row, its payment rows and its holder's
//! sign-up date all agree without being stored: each loader regenerates it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Date;

use super::calendar::{add_days, add_months, months_between, Stamp, DAY};
use super::copy::Rows;
use super::keys::Entity;
use super::lists::{self, one, weighted, weighted_by, POLICY_TYPES};
use super::people::nominee;
use super::scale::{agent_of_holder, holder_of_policy};
use super::world::World;

/// Payment rows a policy can have (their keys are `policy * this + slot`).
pub const PAYMENTS_PER_POLICY: u64 = 8;

const STATUSES: &[(&str, u32)] = &[
    ("active", 70),
    ("lapsed", 6),
    ("surrendered", 3),
    ("matured", 3),
    ("claimed", 1),
    ("cancelled", 2),
    ("draft", 2),
    ("pending_approval", 6),
    ("under_review", 3),
    ("approved", 4),
];

/// Frequency, months per installment, installment as basis points of the
/// annual premium (monthly and quarterly modes carry a loading).
const FREQUENCIES: &[((&str, i64, i64), u32)] = &[
    (("monthly", 1, 885), 35),
    (("quarterly", 3, 2600), 20),
    (("half_yearly", 6, 5100), 10),
    (("annual", 12, 10_000), 35),
];

/// How many recent installments are on record (about three on average).
const HISTORY: &[(i64, u32)] = &[(1, 10), (2, 20), (3, 35), (4, 20), (5, 15)];

/// One premium installment.
pub struct Installment {
    pub seq: i64,
    pub due: Date,
    pub status: &'static str,
    pub paid: Option<Stamp>,
    pub channel: (&'static str, &'static str),
    pub failure: Option<&'static str>,
    pub retries: u32,
}

/// A policy with everything derived from it.
pub struct Policy {
    pub status: &'static str,
    kind: (&'static str, &'static str, [&'static str; 2], u32),
    plan: usize,
    frequency: (&'static str, i64, i64),
    sum_assured: i64,
    /// Per installment, in paise.
    pub premium: i64,
    application: Date,
    approval: Option<Date>,
    start: Date,
    maturity: Date,
    pub created: Stamp,
    pub installments: Vec<Installment>,
    next_due: Option<Date>,
    /// The rest of the policy's stream, for fields drawn only when written.
    rng: ChaCha8Rng,
}

impl Policy {
    pub fn generate(w: &World, index: u64) -> Policy {
        let mut rng = w.keys.rng(Entity::Policy, index);
        let kind = *weighted_by(&mut rng, POLICY_TYPES, |k| k.3);
        let health = kind.0 == "health";
        let status = match weighted(&mut rng, STATUSES) {
            "matured" if health => "active",
            status => status,
        };
        let frequency = match health && rng.random_ratio(4, 5) {
            true => ("annual", 12, 10_000),
            false => weighted(&mut rng, FREQUENCIES),
        };
        let plan = rng.random_range(0..2u32) as usize;
        let term = term_years(&mut rng, kind.0);
        let (sum_assured, annual) = pricing(&mut rng, kind.0, term);
        let premium = annual * frequency.2 / 10_000 * 100;
        let (application, approval, start) = dates(&mut rng, status, term, w.anchor);
        let maturity = match health {
            true => add_months(start, 12 * (months_between(start, w.anchor) / 12 + 1).max(1)),
            false => add_months(start, 12 * term),
        };
        let created = Stamp::at(application).plus(rng.random_range(9 * 3600..19 * 3600));
        let mut policy = Policy {
            status,
            kind,
            plan,
            frequency,
            sum_assured: sum_assured * 100,
            premium,
            application,
            approval,
            start,
            maturity,
            created,
            installments: Vec::new(),
            next_due: None,
            rng,
        };
        policy.schedule(w.anchor);
        policy
    }

    /// Fills the installment history and the next due date.
    fn schedule(&mut self, anchor: Date) {
        let rng = &mut self.rng;
        let months = self.frequency.1;
        let until = match self.status {
            "draft" => return,
            "pending_approval" | "under_review" | "approved" => {
                // The first premium is paid with the proposal.
                self.installments.push(installment(rng, 0, self.application, "completed"));
                self.next_due = (self.status == "approved").then_some(self.start);
                return;
            }
            "active" => anchor,
            "lapsed" => add_days(anchor, -rng.random_range(90..720)),
            "surrendered" | "claimed" => add_days(anchor, -rng.random_range(30..365)),
            "matured" => add_days(self.maturity, -1).min(anchor),
            _ => self.start,
        }
        .max(self.start);
        let last = months_between(self.start, until) / months;
        let count = weighted(rng, HISTORY).min(last + 1);
        for seq in last + 1 - count..=last {
            let status = match (seq == last, self.status) {
                (true, "active") => weighted(rng, &[("completed", 85), ("pending", 10), ("failed", 5)]),
                (true, "lapsed") => "failed",
                _ => weighted(rng, &[("completed", 97), ("failed", 3)]),
            };
            self.installments.push(installment(rng, seq, add_months(self.start, seq * months), status));
        }
        let next = add_months(self.start, (last + 1) * months);
        self.next_due = (self.status == "active" && next < self.maturity).then_some(next);
    }
}

fn installment(rng: &mut ChaCha8Rng, seq: i64, due: Date, status: &'static str) -> Installment {
    let channel = weighted(rng, lists::PAYMENT_CHANNELS);
    let at_due = Stamp::at(due);
    let (paid, failure, retries) = match status {
        "completed" => (Some(at_due.plus(-rng.random_range(0..10 * DAY))), None, 0),
        "failed" => {
            (Some(at_due.plus(rng.random_range(0..5 * DAY))), Some(*one(rng, lists::FAILURES)), rng.random_range(1..=3))
        }
        _ => (None, None, 0),
    };
    Installment { seq, due, status, paid, channel, failure, retries }
}

fn term_years(rng: &mut ChaCha8Rng, kind: &str) -> i64 {
    match kind {
        "term_life" => 5 * rng.random_range(2..=8),
        "endowment" => rng.random_range(10..=25),
        "whole_life" => rng.random_range(40..=60),
        "ulip" => rng.random_range(10..=20),
        _ => 1,
    }
}

/// Sum assured and annual premium in whole rupees, at plausible Indian rates.
fn pricing(rng: &mut ChaCha8Rng, kind: &str, term: i64) -> (i64, i64) {
    match kind {
        "term_life" => {
            let sum = 500_000 * rng.random_range(5..=40);
            (sum, sum * rng.random_range(80..=300) / 100_000)
        }
        "endowment" => {
            let sum = 50_000 * rng.random_range(2..=50);
            (sum, sum * rng.random_range(105..=125) / (100 * term))
        }
        "whole_life" => {
            let sum = 100_000 * rng.random_range(2..=25);
            (sum, sum * rng.random_range(25..=45) / 1000)
        }
        "ulip" => {
            let sum = 100_000 * rng.random_range(5..=50);
            (sum, sum * rng.random_range(90..=110) / 1000)
        }
        _ => {
            let sum = 100_000 * rng.random_range(3..=25);
            (sum, 4000 + sum * rng.random_range(10..=25) / 1000)
        }
    }
}

/// Application, approval and start dates for a policy in `status`:
/// proposals are recent, matured policies started a term ago, the rest
/// were issued within the last nine years (so their term is still running).
fn dates(rng: &mut ChaCha8Rng, status: &str, term: i64, anchor: Date) -> (Date, Option<Date>, Date) {
    match status {
        "draft" | "pending_approval" | "under_review" => {
            let application = add_days(anchor, -rng.random_range(0..60));
            (application, None, add_days(application, 30))
        }
        "approved" => {
            let application = add_days(anchor, -rng.random_range(10..60));
            let approval = add_days(application, rng.random_range(3..10));
            (application, Some(approval), add_days(approval, rng.random_range(0..30)))
        }
        "matured" => {
            let start = add_months(anchor, -(12 * term + rng.random_range(1..36)));
            let application = add_days(start, -rng.random_range(10..30));
            (application, Some(add_days(application, rng.random_range(3..10))), start)
        }
        _ => {
            let application = add_days(anchor, -rng.random_range(30..3400));
            let approval = add_days(application, rng.random_range(3..15));
            (application, Some(approval), add_days(approval, rng.random_range(0..10)))
        }
    }
}

/// One `insurance_policies` row.
pub fn policy(w: &World, i: u64, rows: &mut Rows) {
    let mut p = Policy::generate(w, i);
    let holder = holder_of_policy(i);
    let (kind, category, plans, _) = p.kind;
    rows.uuid(w.keys.id(Entity::Policy, i)).fmt(format_args!("{}-P-{i:08}", w.prefix));
    rows.fmt(format_args!("{}/{}/{i:09}", w.prefix, p.application.year()));
    rows.uuid(w.keys.id(Entity::Holder, holder)).uuid(w.keys.id(Entity::Agent, agent_of_holder(holder)));
    rows.opt(w.providers.pick(&mut p.rng));
    rows.put(kind).put(plans[p.plan]).fmt(format_args!("{}{}", &kind[..2].to_uppercase(), 800 + p.plan * 14));
    rows.put(category).money(p.sum_assured).money(p.premium).put(p.frequency.0);
    let limited = matches!(kind, "endowment" | "whole_life") && p.rng.random_ratio(1, 4);
    rows.put(if limited { "limited_pay" } else { "regular" });
    rows.put(p.application).opt(p.approval).put(p.start).put(p.maturity);
    rows.opt((category == "health").then_some(p.maturity)).put(p.status);
    rows.opt(sub_status(&mut p)).put(payment_status(&p));
    riders(rows, &mut p.rng, kind);
    let issued = p.approval.is_some() && !matches!(p.status, "approved");
    rows.opt(issued.then(|| format!("https://docs.{}.example/policies/{}-P-{i:08}.pdf", w.code, w.prefix)));
    let married = p.rng.random_ratio(7, 10);
    nominee(rows, &mut p.rng, married);
    let completed = p.installments.iter().filter(|x| x.status == "completed");
    rows.opt(completed.clone().filter_map(|x| x.paid).max()).opt(p.next_due.map(Stamp::at));
    rows.put(completed.count());
    let unpaid = p.installments.iter().filter(|x| x.status != "completed").count() as i64;
    rows.money(unpaid * p.premium).put(p.created);
    rows.end();
}

fn sub_status(p: &mut Policy) -> Option<&'static str> {
    match p.status {
        "pending_approval" => Some("awaiting_underwriting"),
        "under_review" => Some(*one(&mut p.rng, &["medical_check", "document_verification"])),
        "approved" => Some("awaiting_start"),
        _ => None,
    }
}

/// The state of the latest installment, as `insurance_policies.payment_status`.
fn payment_status(p: &Policy) -> &'static str {
    match p.installments.last().map(|x| x.status) {
        Some("completed") => "paid",
        Some("pending") => "due",
        Some(_) => "overdue",
        None => "pending",
    }
}

/// `coverage_details`: up to two riders (health plans list cover features).
fn riders(rows: &mut Rows, rng: &mut ChaCha8Rng, kind: &str) {
    if kind == "health" {
        let copay = *one(rng, &[0, 10, 20]);
        rows.fmt(format_args!(r#"{{"riders": [], "cashless": true, "copay_percent": {copay}}}"#));
        return;
    }
    match rng.random_range(0..3u32) {
        0 => rows.put(r#"{"riders": []}"#),
        1 => rows.fmt(format_args!(r#"{{"riders": ["{}"]}}"#, one(rng, lists::RIDERS))),
        _ => {
            let (a, b) = (rng.random_range(0..5u32) as usize, rng.random_range(1..5u32) as usize);
            let (a, b) = (lists::RIDERS[a], lists::RIDERS[(a + b) % 5]);
            rows.fmt(format_args!(r#"{{"riders": ["{a}", "{b}"]}}"#))
        }
    };
}

/// The `premium_payments` rows of policy `i`.
pub fn payments(w: &World, i: u64, rows: &mut Rows) {
    let p = Policy::generate(w, i);
    let (policy_id, holder_id) = (w.keys.id(Entity::Policy, i), w.keys.id(Entity::Holder, holder_of_policy(i)));
    let grace = if p.frequency.1 == 1 { 15 } else { 30 };
    let settled_before = w.anchor_stamp().plus(-30 * DAY);
    for (slot, x) in p.installments.iter().enumerate() {
        rows.uuid(w.keys.id(Entity::Payment, i * PAYMENTS_PER_POLICY + slot as u64)).uuid(policy_id).uuid(holder_id);
        rows.money(p.premium).opt(x.paid).put(Stamp::at(x.due)).put(grace);
        rows.put(x.channel.0).put(x.channel.1);
        rows.opt(x.paid.map(|_| format!("{}_{}_{i}_{}", x.channel.1, w.code, x.seq)));
        rows.put(x.status).opt(x.failure).put(x.retries);
        let reconciled = x.status == "completed" && x.paid.is_some_and(|t| t < settled_before);
        rows.put(reconciled).opt(x.paid.filter(|_| reconciled).map(|t| t.plus(2 * DAY)));
        rows.put(x.paid.unwrap_or(Stamp::at(x.due)));
        rows.end();
    }
}
