//! What demo people, staff, places and referrals are made of: names, reasons in people's own words, streets, service kinds, and a seeded random source so one seed gives one dataset.

use linkwork_domain::casework::NeedDomain;
use linkwork_domain::intake::referrals::ReferralSource;
use linkwork_domain::values::{Email, NhsNumber};

/// SplitMix64: small, fast, and the same sequence on every machine.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    pub(super) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

pub(super) const GIVEN: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Freya", "Lily", "Sophia", "Evie", "Margaret", "Patricia",
    "Joan", "Doreen", "Aisha", "Fatima", "Priya", "Zofia", "Siobhan", "Chloe", "Oliver", "George", "Noah", "Arthur",
    "Leo", "Harry", "Jack", "Muhammad", "Thomas", "James", "William", "David", "Peter", "Kwame", "Tomasz", "Ravi",
    "Dylan", "Callum", "Dennis", "Brian",
];
pub(super) const FAMILY: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke", "Jackson", "Wood", "Khan",
    "Hughes", "Edwards", "Hussain", "Lewis", "Kowalski", "O'Brien", "Murphy", "Begum", "Ahmed", "Okafor", "Singh",
    "Campbell", "Kelly", "Moore", "Price", "Turner", "Baker",
];
/// The demo link workers' names: family names that no demo person has, so a worker is never
/// mistaken for someone on the waiting list (issue 12, item 19).
pub(super) const STAFF: &[&str] = &[
    "Priya Ashworth",
    "Tom Fairbairn",
    "Grace Pemberton",
    "Daniel Whitlock",
    "Nadia Holroyd",
    "Sean Lockwood",
    "Hannah Brearley",
    "Yusuf Thornton",
];
pub(super) const AREAS: &[(&str, &str)] = &[
    ("Harehills", "LS8"),
    ("Chapeltown", "LS7"),
    ("Armley", "LS12"),
    ("Beeston", "LS11"),
    ("Headingley", "LS6"),
    ("Seacroft", "LS14"),
    ("Bramley", "LS13"),
    ("Morley", "LS27"),
    ("Otley", "LS21"),
    ("Garforth", "LS25"),
    ("Kirkstall", "LS5"),
    ("Roundhay", "LS17"),
];
pub(super) const REASONS: &[&str] = &[
    "Lonely since partner died; wants to get out more",
    "Debt worries affecting sleep and mood",
    "Housing disrepair and damp; anxious about landlord",
    "Low mood, not working, wants structure to the week",
    "Carer for husband with dementia, exhausted",
    "Recently retired and isolated",
    "Wants to be more active after cardiac rehab",
    "Struggling with benefits forms",
    "Frequent attender; social needs behind appointments",
    "Newly arrived, little English, wants to meet people",
    "Long-term pain, wants to try a group activity",
    "Bereaved last year, not coping",
];
/// The need domains behind each of `REASONS`, in the same order.
pub(super) const REASON_NEEDS: &[&[NeedDomain]] = &[
    &[NeedDomain::Loneliness, NeedDomain::Bereavement],
    &[NeedDomain::Money, NeedDomain::MentalWellbeing],
    &[NeedDomain::Housing, NeedDomain::MentalWellbeing],
    &[NeedDomain::MentalWellbeing, NeedDomain::Work],
    &[NeedDomain::Caring],
    &[NeedDomain::Loneliness],
    &[NeedDomain::PhysicalActivity, NeedDomain::LongTermConditions],
    &[NeedDomain::Money, NeedDomain::Digital],
    &[NeedDomain::Other],
    &[NeedDomain::Loneliness, NeedDomain::Other],
    &[NeedDomain::LongTermConditions, NeedDomain::PhysicalActivity],
    &[NeedDomain::Bereavement, NeedDomain::MentalWellbeing],
];
/// What people say matters to them, by need domain (their own words).
pub(super) const OWN_WORDS: &[(NeedDomain, &str, &str)] = &[
    (
        NeedDomain::Loneliness,
        "I just want someone to talk to, most days I don't see anyone",
        "Get out of the house twice a week and meet people",
    ),
    (NeedDomain::Bereavement, "Since he died the house is so quiet", "Talk to people who understand what it's like"),
    (NeedDomain::Money, "The letters keep coming and I can't open them", "Sort out the debts so I can sleep"),
    (
        NeedDomain::MentalWellbeing,
        "I feel flat, like nothing is worth doing",
        "Have something to look forward to each week",
    ),
    (NeedDomain::Housing, "The damp is making my chest worse", "Get the landlord to fix the damp"),
    (NeedDomain::Work, "I want a reason to get up in the morning", "Try some volunteering"),
    (NeedDomain::Caring, "I never get a minute to myself", "Have a few hours off each week without worrying"),
    (
        NeedDomain::PhysicalActivity,
        "I used to love walking before my heart trouble",
        "Walk to the park and back without stopping",
    ),
    (NeedDomain::LongTermConditions, "The pain stops me doing anything", "Find something I can do even on bad days"),
    (NeedDomain::Digital, "Everything is online now and I can't do it", "Use the phone to do my forms myself"),
    (NeedDomain::Other, "I keep ending up at the doctor's but it's not really medical", "Know where to go for help"),
];
pub(super) const STREETS: &[&str] =
    &["Church", "Station", "Victoria", "Park", "Mill", "Chapel", "Oak", "Moor", "Green", "Kings"];

pub(super) const SERVICE_KINDS: &[(&str, &str)] = &[
    ("Walking for Health", "Free, friendly short walks led by trained volunteers, every week."),
    ("Citizens Advice debt clinic", "One-to-one advice on debt, budgeting and benefits."),
    ("Men's Shed", "A workshop space to make, mend and chat, for men of all ages."),
    ("Community choir", "No auditions; sing together once a week, tea after."),
    ("Telephone befriending", "A regular call from the same volunteer for people who feel alone."),
    ("Carers' support group", "Peer support and breaks for unpaid carers."),
    ("Community allotment", "Grow food together; tools and seeds provided."),
    ("Digital drop-in", "Help with phones, tablets, online forms and video calls."),
    ("Bereavement support", "Group and one-to-one support after a death."),
    ("Chair-based exercise", "Gentle seated exercise for people with limited mobility."),
    ("English conversation club", "Practise English in a relaxed group; all levels."),
    ("Food bank and pantry", "Emergency food parcels and a low-cost pantry."),
];
pub(super) const VCSE_NAMES: &[&str] = &[
    "Neighbourhood Action",
    "Community Trust",
    "Age Concern",
    "Carers Network",
    "Wellbeing Collective",
    "Community Association",
    "Advice Centre",
    "Together Project",
    "Good Neighbours",
    "Arts for Health",
    "Green Spaces Friends",
    "Money Matters",
    "Open Doors",
    "Connect",
    "Community Kitchen",
];

pub(super) const SOURCES: &[(ReferralSource, usize)] = &[
    (ReferralSource::Gp, 45),
    (ReferralSource::PracticeStaff, 20),
    (ReferralSource::SelfReferral, 10),
    (ReferralSource::HospitalDischarge, 5),
    (ReferralSource::LocalAuthority, 5),
    (ReferralSource::Housing, 4),
    (ReferralSource::Vcse, 5),
    (ReferralSource::Pharmacist, 3),
    (ReferralSource::Other, 3),
];

pub(super) fn weighted_source(rng: &mut Rng) -> ReferralSource {
    let mut roll = rng.below(100);
    for (s, w) in SOURCES {
        if roll < *w {
            return *s;
        }
        roll -= w;
    }
    ReferralSource::Other
}

/// A valid test-range NHS number from a counter (skipping prefixes whose check digit would be 10).
pub(super) fn nhs_number(counter: &mut u32) -> Option<NhsNumber> {
    loop {
        let six = *counter % 1_000_000;
        *counter = counter.wrapping_add(1);
        let digits: Vec<u32> = format!("999{six:06}").bytes().map(|b| u32::from(b - b'0')).collect();
        if let Some(check) = NhsNumber::check_digit(&digits) {
            return NhsNumber::parse(&format!("999{six:06}{check}")).ok();
        }
    }
}

pub(super) fn email(s: &str) -> anyhow::Result<Email> {
    Email::parse(s).map_err(|e| anyhow::anyhow!("demo email {s}: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_staff_names_never_match_demo_people() {
        for name in STAFF {
            let family = name.rsplit(' ').next().unwrap_or_default();
            assert!(!FAMILY.contains(&family), "{name} shares a family name with demo people");
        }
    }

    use super::*;

    #[test]
    fn demo_nhs_numbers_are_valid_test_numbers_and_distinct() {
        let mut c = 0;
        let nums: Vec<NhsNumber> = (0..1000).filter_map(|_| nhs_number(&mut c)).collect();
        assert_eq!(nums.len(), 1000);
        assert!(nums.iter().all(NhsNumber::is_test_number));
        let mut sorted: Vec<&str> = nums.iter().map(NhsNumber::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        assert_eq!((0..10).map(|_| a.next()).collect::<Vec<_>>(), (0..10).map(|_| b.next()).collect::<Vec<_>>());
    }
}
