//! How many rows of each kind a sample of N policies has, and which row
//! points at which.
//!
//! Every mapping here depends on the row's index alone, never on N: policy 7
//! has the same holder and agent in a sample of 500 as in one of 100 000.
//! That is what lets a larger `--sample` add only new rows, and it is why the
//! mappings look at the smallest sample a row appears in rather than at N.

use rand::Rng;

/// Largest `--sample`: keeps derived phone numbers within 10 digits.
pub const MAX_SAMPLE: u64 = 10_000_000;

/// Agents per regional block: one regional head, five seniors, nineteen juniors.
const BLOCK: u64 = 25;
/// Agents per senior's team (the senior plus four juniors).
const TEAM: u64 = 5;

/// Row counts of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub policies: u64,
    pub holders: u64,
    pub agents: u64,
    pub events: u64,
}

impl Scale {
    pub fn of(policies: u64) -> Scale {
        Scale { policies, holders: holders(policies), agents: agents(policies), events: policies }
    }

    /// Users: one per agent, then one per policyholder.
    pub fn users(&self) -> u64 {
        self.agents + self.holders
    }
}

/// About two policyholders per three policies: exactly the holders that
/// [`holder_of_policy`] reaches.
fn holders(policies: u64) -> u64 {
    match policies {
        0 => 0,
        n => holder_of_policy(n - 1) + 1,
    }
}

/// About one agent per 200 policies, at least one.
fn agents(policies: u64) -> u64 {
    (policies / 200).max(1)
}

/// The holder of policy `i`: holders 0, 2, 4… hold two policies, the others one.
pub fn holder_of_policy(i: u64) -> u64 {
    2 * i / 3
}

/// The first policy of holder `j` (the inverse of [`holder_of_policy`]).
pub fn first_policy(j: u64) -> u64 {
    (3 * j).div_ceil(2)
}

/// The agent of holder `j`: consecutive holders share an agent (~133 each),
/// capped by the agents that exist in the smallest sample holding `j`.
pub fn agent_of_holder(j: u64) -> u64 {
    let smallest_sample = first_policy(j) + 1;
    (3 * j / 400).min(agents(smallest_sample) - 1)
}

/// An agent's place in the three-level hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    RegionalHead,
    Senior,
    Junior,
}

impl Rank {
    pub fn level(self) -> u32 {
        match self {
            Rank::RegionalHead => 1,
            Rank::Senior => 2,
            Rank::Junior => 3,
        }
    }

    /// The `users.role` of an agent of this rank.
    pub fn role(self) -> &'static str {
        match self {
            Rank::RegionalHead => "regional_manager",
            Rank::Senior => "senior_agent",
            Rank::Junior => "junior_agent",
        }
    }
}

/// Rank and parent of agent `k`: blocks of 25 under a regional head, each
/// with five senior-led teams. Parents always have a smaller index.
pub fn rank(k: u64) -> (Rank, Option<u64>) {
    let offset = k % BLOCK;
    if offset == 0 {
        return (Rank::RegionalHead, None);
    }
    let senior = k - (offset - 1) % TEAM;
    if senior == k {
        (Rank::Senior, Some(k - offset))
    } else {
        (Rank::Junior, Some(senior))
    }
}

/// The regional block (and so the home city) of agent `k`.
pub fn block(k: u64) -> u64 {
    k / BLOCK
}

/// Who raised an event: mostly policyholders, some agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Agent(u64),
    Holder(u64),
}

/// The actor of event `e`, among the users of the smallest sample holding it
/// (so early users are the most active, as in real apps).
pub fn actor_of_event(e: u64, rng: &mut impl Rng) -> Actor {
    let smallest = Scale::of(e + 1);
    if rng.random_ratio(3, 20) {
        Actor::Agent(rng.random_range(0..smallest.agents))
    } else {
        Actor::Holder(rng.random_range(0..smallest.holders))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn references_exist_in_every_sample_that_holds_the_row() {
        for n in 1..3000 {
            let scale = Scale::of(n);
            assert_eq!(holder_of_policy(n - 1), scale.holders - 1, "holders without a policy at n={n}");
            let j = scale.holders - 1;
            assert!(first_policy(j) < n && holder_of_policy(first_policy(j)) == j, "holder {j} at n={n}");
            assert!(agent_of_holder(scale.holders - 1) < scale.agents, "holder at n={n}");
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n);
            match actor_of_event(n - 1, &mut rng) {
                Actor::Agent(k) => assert!(k < scale.agents),
                Actor::Holder(j) => assert!(j < scale.holders),
            }
        }
    }

    #[test]
    fn holders_mostly_share_agents_evenly() {
        let scale = Scale::of(100_000);
        let mut load = vec![0u32; scale.agents as usize];
        for j in 0..scale.holders {
            load[agent_of_holder(j) as usize] += 1;
        }
        assert!(load.iter().all(|&l| l > 0 && l < 300), "{load:?}");
    }

    #[test]
    fn hierarchy_has_three_levels_and_earlier_parents() {
        assert_eq!(rank(0), (Rank::RegionalHead, None));
        assert_eq!(rank(1), (Rank::Senior, Some(0)));
        assert_eq!(rank(2), (Rank::Junior, Some(1)));
        assert_eq!(rank(5), (Rank::Junior, Some(1)));
        assert_eq!(rank(6), (Rank::Senior, Some(0)));
        assert_eq!(rank(27), (Rank::Junior, Some(26)));
        for k in 0..1000 {
            let (rank, parent) = rank(k);
            if let Some(p) = parent {
                assert!(p < k);
                assert_eq!(super::rank(p).0.level() + 1, rank.level());
            }
        }
    }
}
