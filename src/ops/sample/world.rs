//! What every generator needs to know about the tenant being seeded: its
//! keys, its names, the database's calendar and its insurance providers.

use rand::Rng;
use time::Date;
use uuid::Uuid;

use super::calendar::Stamp;
use super::keys::Keys;
use super::scale::Scale;

/// The fixed inputs of one tenant's sample.
pub struct World {
    pub keys: Keys,
    pub scale: Scale,
    /// The tenant code, as used in e-mail domains (`lic.example`).
    pub code: String,
    /// The upper-case code, as used in agent codes and policy numbers.
    pub prefix: String,
    /// First day of the database's current month: every date is relative to
    /// it, so reruns within a month regenerate exactly the same rows.
    pub anchor: Date,
    pub providers: Providers,
    /// `[from, to)` for user events, when the tenant has the table.
    pub events: Option<(Stamp, Stamp)>,
}

/// Which `shared.insurance_providers` rows policies point at.
#[derive(Debug, Clone)]
pub enum Providers {
    /// No reference data: provider_id stays NULL.
    None,
    /// The tenant is itself a provider (lic → LIC).
    Own(Uuid),
    /// An agent network: policies spread over every provider.
    Spread(Vec<Uuid>),
}

impl Providers {
    /// Picks the provider for one row (draws from `rng` only when spreading).
    pub fn pick(&self, rng: &mut impl Rng) -> Option<Uuid> {
        match self {
            Providers::None => None,
            Providers::Own(id) => Some(*id),
            Providers::Spread(ids) => Some(*super::lists::one(rng, ids)),
        }
    }

    /// The provider for rows that must not draw randomness (agents).
    pub fn own(&self) -> Option<Uuid> {
        match self {
            Providers::Own(id) => Some(*id),
            _ => None,
        }
    }

    /// Chooses from `(provider_code, provider_id)` rows, ordered by code:
    /// the one whose code starts with the tenant code, else all of them.
    pub fn choose(tenant_code: &str, rows: Vec<(String, Uuid)>) -> Providers {
        let own = rows.iter().find(|(code, _)| code.to_lowercase().starts_with(tenant_code));
        match own {
            Some((_, id)) => Providers::Own(*id),
            None if rows.is_empty() => Providers::None,
            None => Providers::Spread(rows.into_iter().map(|(_, id)| id).collect()),
        }
    }
}

impl World {
    pub fn anchor_stamp(&self) -> Stamp {
        Stamp::at(self.anchor)
    }
}
