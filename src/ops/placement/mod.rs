//! Where tenants live when `tenants.toml` declares `[servers.*]`.
//!
//! Each server's registry is the truth for the tenants it holds: a tenant
//! registered (and neither `moving` nor `moved`, see [`serves`]) on a server lives there, whatever
//! tenants.toml says; a declared `server = "…"` that disagrees is reported,
//! never acted on (moving is `tenant move`'s job). A tenant found nowhere
//! goes to the server it names, else to the server with the fewest
//! relations (`pg_class` of the provision database there). Tenants placed
//! in the same run count as the fleet's average tenant each (relations per
//! registered tenant; 1 on an empty fleet, which places round-robin in name
//! order), so one run of `up` spreads them instead of piling all on one.
//!
//! A tenant that is found nowhere while a server cannot be reached is not
//! placed at all: that server may hold it, and creating a second copy
//! elsewhere would split the tenant.

mod survey;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::config::ServerName;
use crate::model::tenant::TenantCode;

pub use survey::{serves, survey, Survey};

/// One server as placement saw it.
pub struct ServerView<'a> {
    pub name: &'a ServerName,
    /// `Err(why)` when it could not be reached or read.
    pub survey: &'a Result<Survey, String>,
}

/// Why a tenant is on the server it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Reason {
    /// Its registry holds it.
    Registered,
    /// tenants.toml names the server.
    Declared,
    /// New: the server with the fewest relations (the counts compared).
    FewestRelations { relations: BTreeMap<String, i64> },
}

/// A tenant declared for one server but registered on another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Misplaced {
    pub tenant: String,
    pub declared: String,
    pub found: String,
}

/// Where every tenant asked about lives (or would be created).
#[derive(Debug, Default)]
pub struct Placement {
    pub on: BTreeMap<TenantCode, (ServerName, Reason)>,
    pub misplaced: Vec<Misplaced>,
    /// Registered on more than one server (each copy serving).
    pub duplicated: BTreeMap<TenantCode, Vec<ServerName>>,
    /// Found nowhere and not placeable now: the unreachable servers that may hold it.
    pub unplaced: BTreeMap<TenantCode, Vec<ServerName>>,
}

impl Placement {
    /// The tenants placed on `server`.
    pub fn tenants_on(&self, server: &ServerName) -> BTreeSet<TenantCode> {
        self.on.iter().filter(|(_, (s, _))| s == server).map(|(code, _)| code.clone()).collect()
    }

    pub fn server_of(&self, code: &TenantCode) -> Option<&ServerName> {
        self.on.get(code).map(|(server, _)| server)
    }
}

/// Places `tenants` (code, declared server) on `servers` (see the module doc).
pub fn place(servers: &[ServerView<'_>], tenants: &[(TenantCode, Option<ServerName>)]) -> Placement {
    let mut placement = Placement::default();
    let unreachable: Vec<ServerName> = servers.iter().filter(|s| s.survey.is_err()).map(|s| s.name.clone()).collect();
    let mut load: BTreeMap<&ServerName, i64> =
        servers.iter().filter_map(|s| Some((s.name, s.survey.as_ref().ok()?.relations))).collect();
    let average = average_tenant(servers);
    for (code, declared) in tenants {
        let holders: Vec<&ServerName> =
            servers.iter().filter(|s| s.survey.as_ref().is_ok_and(|v| v.holds(code))).map(|s| s.name).collect();
        if let Some(found) = holders.first() {
            let found = declared.as_ref().and_then(|d| holders.iter().find(|h| **h == d)).unwrap_or(found);
            if holders.len() > 1 {
                placement.duplicated.insert(code.clone(), holders.iter().map(|s| (*s).clone()).collect());
            }
            if let Some(declared) = declared.as_ref().filter(|d| d != found) {
                let (tenant, declared, found) = (code.to_string(), declared.to_string(), found.to_string());
                placement.misplaced.push(Misplaced { tenant, declared, found });
            }
            placement.on.insert(code.clone(), ((*found).clone(), Reason::Registered));
        } else if let Some(declared) = declared {
            match unreachable.contains(declared) {
                true => _ = placement.unplaced.insert(code.clone(), vec![declared.clone()]),
                false => _ = placement.on.insert(code.clone(), (declared.clone(), Reason::Declared)),
            }
        } else if !unreachable.is_empty() || load.is_empty() {
            placement.unplaced.insert(code.clone(), unreachable.clone());
        } else {
            let relations = load.iter().map(|(name, n)| (name.to_string(), *n)).collect();
            // Ties go to the first in name order (min_by_key keeps the first minimum).
            let (&least, _) = load.iter().min_by_key(|(_, n)| **n).expect("a reachable server");
            *load.get_mut(least).expect("present") += average;
            placement.on.insert(code.clone(), (least.clone(), Reason::FewestRelations { relations }));
        }
    }
    placement
}

/// Relations per registered tenant across the reachable fleet (at least 1).
fn average_tenant(servers: &[ServerView<'_>]) -> i64 {
    let answered = servers.iter().filter_map(|s| s.survey.as_ref().ok());
    let (relations, tenants) = answered.fold((0, 0), |(r, t), s| (r + s.relations, t + s.tenants.len() as i64));
    match tenants {
        0 => 1,
        _ => (relations / tenants).max(1),
    }
}

#[cfg(test)]
mod tests;
