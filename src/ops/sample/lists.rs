//! The small built-in vocabularies sample rows draw from: Indian names,
//! cities, occupations, plans, payment channels, app events. Kept in code so
//! the output depends on nothing but the seed.
//!
//! Values end up in COPY text and hand-built JSON, so none may contain a
//! double quote, backslash, tab or newline (a unit test checks).

use rand::Rng;

pub const MALE_NAMES: &[&str] = &[
    "Aarav",
    "Vivaan",
    "Aditya",
    "Arjun",
    "Rohan",
    "Rahul",
    "Vikram",
    "Sanjay",
    "Amit",
    "Rajesh",
    "Suresh",
    "Karthik",
    "Pranav",
    "Nikhil",
    "Harish",
    "Manoj",
    "Anil",
    "Deepak",
    "Gaurav",
    "Imran",
    "Farhan",
    "Joseph",
    "Gurpreet",
    "Venkatesh",
    "Siddharth",
    "Abhishek",
    "Ravi",
    "Mohan",
    "Sandeep",
    "Tarun",
];

pub const FEMALE_NAMES: &[&str] = &[
    "Priya",
    "Ananya",
    "Diya",
    "Kavya",
    "Neha",
    "Pooja",
    "Sneha",
    "Lakshmi",
    "Meera",
    "Anjali",
    "Divya",
    "Shreya",
    "Swati",
    "Fatima",
    "Ayesha",
    "Sunita",
    "Rekha",
    "Deepa",
    "Nandini",
    "Ishita",
    "Harpreet",
    "Radha",
    "Aishwarya",
    "Bhavna",
    "Geeta",
    "Jyoti",
    "Madhuri",
    "Shalini",
    "Tanvi",
    "Zoya",
];

pub const LAST_NAMES: &[&str] = &[
    "Sharma",
    "Verma",
    "Gupta",
    "Iyer",
    "Nair",
    "Reddy",
    "Rao",
    "Patel",
    "Shah",
    "Mehta",
    "Desai",
    "Joshi",
    "Kulkarni",
    "Deshpande",
    "Banerjee",
    "Chatterjee",
    "Mukherjee",
    "Das",
    "Bose",
    "Singh",
    "Kaur",
    "Gill",
    "Khan",
    "Qureshi",
    "Fernandes",
    "D'Souza",
    "Menon",
    "Pillai",
    "Naidu",
    "Chauhan",
    "Yadav",
    "Mishra",
    "Pandey",
    "Tiwari",
    "Agarwal",
    "Jain",
    "Bhat",
    "Hegde",
    "Sinha",
    "Thakur",
];

/// City, state and the first three digits of its PIN codes.
pub const CITIES: &[(&str, &str, u32)] = &[
    ("Mumbai", "Maharashtra", 400),
    ("Pune", "Maharashtra", 411),
    ("Delhi", "Delhi", 110),
    ("Bengaluru", "Karnataka", 560),
    ("Chennai", "Tamil Nadu", 600),
    ("Hyderabad", "Telangana", 500),
    ("Kolkata", "West Bengal", 700),
    ("Ahmedabad", "Gujarat", 380),
    ("Jaipur", "Rajasthan", 302),
    ("Lucknow", "Uttar Pradesh", 226),
    ("Kochi", "Kerala", 682),
    ("Bhopal", "Madhya Pradesh", 462),
    ("Patna", "Bihar", 800),
    ("Chandigarh", "Chandigarh", 160),
    ("Indore", "Madhya Pradesh", 452),
    ("Nagpur", "Maharashtra", 440),
    ("Coimbatore", "Tamil Nadu", 641),
    ("Visakhapatnam", "Andhra Pradesh", 530),
    ("Surat", "Gujarat", 395),
    ("Guwahati", "Assam", 781),
];

pub const OCCUPATIONS: &[&str] = &[
    "Software Engineer",
    "Teacher",
    "Business Owner",
    "Doctor",
    "Accountant",
    "Farmer",
    "Government Employee",
    "Shopkeeper",
    "Sales Executive",
    "Nurse",
    "Civil Engineer",
    "Homemaker",
    "Retired",
    "Lawyer",
    "Bank Officer",
];

pub const EDUCATION: &[&str] = &["secondary", "higher_secondary", "graduate", "post_graduate", "doctorate"];

pub const LANGUAGES: &[(&str, u32)] = &[("en", 50), ("hi", 30), ("ta", 5), ("te", 5), ("mr", 5), ("bn", 5)];

pub const SPECIALIZATIONS: &[&str] = &["term_life", "endowment", "ulip", "health", "retirement", "child_plans"];

/// Policy types with their category, plan names and share of policies.
pub const POLICY_TYPES: &[(&str, &str, [&str; 2], u32)] = &[
    ("term_life", "life", ["Term Shield", "Secure Term Plus"], 30),
    ("endowment", "life", ["Endowment Saver", "Child Future Plan"], 25),
    ("whole_life", "life", ["Lifetime Assure", "Whole Life Income"], 10),
    ("ulip", "life", ["Wealth Builder ULIP", "Smart Growth ULIP"], 15),
    ("health", "health", ["Family Health Optima", "Critical Care Shield"], 20),
];

pub const RIDERS: &[&str] =
    &["accidental_death_benefit", "critical_illness", "waiver_of_premium", "hospital_cash", "term_rider"];

/// (method, gateway) pairs and their share of payments.
pub const PAYMENT_CHANNELS: &[((&str, &str), u32)] = &[
    (("upi", "phonepe"), 30),
    (("upi", "paytm"), 15),
    (("net_banking", "billdesk"), 15),
    (("credit_card", "razorpay"), 12),
    (("debit_card", "razorpay"), 10),
    (("auto_debit", "billdesk"), 18),
];

pub const FAILURES: &[&str] =
    &["insufficient_funds", "bank_declined", "upi_timeout", "mandate_expired", "authentication_failed"];

/// An app event's type, category, action and page.
pub type EventKind = (&'static str, &'static str, &'static str, &'static str);

/// App events and their share of events.
pub const EVENTS: &[(EventKind, u32)] = &[
    (("app_open", "navigation", "open", "/home"), 20),
    (("page_view", "navigation", "view", "/dashboard"), 20),
    (("policy_view", "navigation", "view", "/policies/detail"), 15),
    (("login", "interaction", "login", "/login"), 10),
    (("search", "interaction", "search", "/search"), 8),
    (("document_download", "interaction", "download", "/documents"), 7),
    (("video_play", "interaction", "play", "/learn"), 6),
    (("chat_message", "interaction", "send", "/chat"), 5),
    (("premium_payment", "conversion", "pay", "/payments/new"), 6),
    (("app_error", "error", "crash", "/payments/new"), 3),
];

pub const SEARCHES: &[&str] =
    &["term plan", "premium due", "tax benefit 80c", "claim status", "maturity value", "add nominee"];

pub const DEVICES: &[(&str, &str, u32)] = &[
    ("android", "Samsung Galaxy M34", 35),
    ("android", "Redmi Note 13", 25),
    ("android", "Vivo Y56", 15),
    ("ios", "iPhone 14", 15),
    ("web", "Chrome", 10),
];

/// One uniformly chosen element (indices drawn as u32 so results do not
/// depend on the platform's pointer width).
pub fn one<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len() as u32) as usize]
}

/// One element chosen by weight.
pub fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    weighted_by(rng, items, |(_, w)| *w).0
}

/// One element chosen by the weight `weight` reads from it.
pub fn weighted_by<'a, T>(rng: &mut impl Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut ticket = rng.random_range(0..total);
    for item in items {
        if ticket < weight(item) {
            return item;
        }
        ticket -= weight(item);
    }
    &items[items.len() - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_need_no_escaping() {
        let mut all: Vec<&str> = [MALE_NAMES, FEMALE_NAMES, LAST_NAMES, OCCUPATIONS, EDUCATION, RIDERS, SEARCHES]
            .concat()
            .into_iter()
            .chain(SPECIALIZATIONS.iter().copied())
            .chain(FAILURES.iter().copied())
            .collect();
        all.extend(CITIES.iter().flat_map(|(c, s, _)| [*c, *s]));
        all.extend(POLICY_TYPES.iter().flat_map(|(t, c, p, _)| [*t, *c, p[0], p[1]]));
        all.extend(EVENTS.iter().flat_map(|((a, b, c, d), _)| [*a, *b, *c, *d]));
        all.extend(DEVICES.iter().flat_map(|(a, b, _)| [*a, *b]));
        for value in all {
            assert!(!value.contains(['"', '\\', '\t', '\n', '\r']), "{value:?}");
        }
    }
}
