//! Deterministic identity and randomness for every sample row.
//!
//! Primary keys are UUID v5 of (tenant, rng seed, entity, index), so running
//! `seed` again produces the same keys and the merge skips those rows. Each
//! row draws its attributes from its own ChaCha8 stream (stream = row
//! index), so a row does not depend on which other rows are generated, and
//! the same seed gives the same rows on every platform.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// The kinds of generated rows (and of their random streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    AgentUser,
    HolderUser,
    Agent,
    Holder,
    Policy,
    /// Indexed by `policy * PAYMENTS_PER_POLICY + installment`.
    Payment,
    Event,
    /// A regional block of agents (its home city).
    Region,
}

const ENTITIES: [Entity; 8] = [
    Entity::AgentUser,
    Entity::HolderUser,
    Entity::Agent,
    Entity::Holder,
    Entity::Policy,
    Entity::Payment,
    Entity::Event,
    Entity::Region,
];

impl Entity {
    /// Part of the UUID v5 name; never change one, or every key changes.
    fn tag(self) -> &'static [u8] {
        match self {
            Entity::AgentUser => b"agent_user",
            Entity::HolderUser => b"holder_user",
            Entity::Agent => b"agent",
            Entity::Holder => b"policyholder",
            Entity::Policy => b"policy",
            Entity::Payment => b"payment",
            Entity::Event => b"event",
            Entity::Region => b"region",
        }
    }
}

/// Keys and random streams of one tenant and rng seed.
#[derive(Clone)]
pub struct Keys {
    tenant: Uuid,
    seed: u64,
    streams: Vec<ChaCha8Rng>,
}

impl Keys {
    pub fn new(tenant: Uuid, seed: u64) -> Keys {
        let streams = ENTITIES
            .iter()
            .map(|&entity| {
                // A 32-byte ChaCha key from two v5 UUIDs: SHA-1 based, hence portable.
                let mut key = [0u8; 32];
                key[..16].copy_from_slice(Keys::derive(tenant, seed, entity, b"rng:0", 0).as_bytes());
                key[16..].copy_from_slice(Keys::derive(tenant, seed, entity, b"rng:1", 0).as_bytes());
                ChaCha8Rng::from_seed(key)
            })
            .collect();
        Keys { tenant, seed, streams }
    }

    /// The primary key of row `index` of `entity`.
    pub fn id(&self, entity: Entity, index: u64) -> Uuid {
        Keys::derive(self.tenant, self.seed, entity, b"id", index)
    }

    /// The random stream of row `index` of `entity`, from its start.
    pub fn rng(&self, entity: Entity, index: u64) -> ChaCha8Rng {
        let mut rng = self.streams[entity as usize].clone();
        rng.set_stream(index);
        rng
    }

    /// UUID v5 in the tenant's namespace of `seed/entity/purpose/index`.
    fn derive(tenant: Uuid, seed: u64, entity: Entity, purpose: &[u8], index: u64) -> Uuid {
        // Fixed-size buffer: this runs for every generated row.
        let mut name = [0u8; 64];
        let mut len = 0;
        for part in [&seed.to_be_bytes()[..], entity.tag(), b"/", purpose, b"/", &index.to_be_bytes()] {
            name[len..len + part.len()].copy_from_slice(part);
            len += part.len();
        }
        Uuid::new_v5(&tenant, &name[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn keys_are_stable_and_distinct() {
        let tenant = Uuid::from_u128(42);
        let keys = Keys::new(tenant, 7);
        assert_eq!(keys.id(Entity::Policy, 3), Keys::new(tenant, 7).id(Entity::Policy, 3));
        assert_ne!(keys.id(Entity::Policy, 3), keys.id(Entity::Policy, 4));
        assert_ne!(keys.id(Entity::Policy, 3), keys.id(Entity::Agent, 3));
        assert_ne!(keys.id(Entity::Policy, 3), Keys::new(tenant, 8).id(Entity::Policy, 3));
        assert_ne!(keys.id(Entity::Policy, 3), Keys::new(Uuid::from_u128(43), 7).id(Entity::Policy, 3));
    }

    #[test]
    fn streams_are_independent_of_generation_order() {
        let keys = Keys::new(Uuid::from_u128(1), 1);
        let later: u64 = keys.rng(Entity::Policy, 9).random();
        let _ = keys.rng(Entity::Policy, 8).random::<u64>();
        assert_eq!(keys.rng(Entity::Policy, 9).random::<u64>(), later);
        assert_ne!(keys.rng(Entity::Policy, 10).random::<u64>(), later);
    }
}
