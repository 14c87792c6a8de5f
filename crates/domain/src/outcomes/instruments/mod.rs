//! The instruments, one declaration each: items, response scale, scoring, bands, licence and
//! the shortest interval between two administrations. Scoring follows each instrument's
//! published rules, including what to do with a missing item; nothing else in linkwork scores.
//!
//! Wording ships only where the licence allows it (ONS4 with credit to the ONS, the UCLA
//! 3-item scale, the Copenhagen Burnout Inventory, the occupational self-efficacy short scale).
//! SWEMWBS and WEMWBS ship their scoring only: their licence requires each deployer to register,
//! so the deployer loads the wording they are licensed to use (`linkwork outcomes load-wording`)
//! and the instrument cannot be offered until they do. Proprietary measures (PAM, EQ-5D-5L, the
//! Wellbeing Star, MYCaW) are never administered here: their totals are imported with their
//! source named.

use crate::vocabulary;

mod imported;
mod workforce;

pub use imported::{EQ5D5L, MYCAW, PAM, WELLBEING_STAR};
pub use workforce::{CBI_WORK, OSE6};

vocabulary!(
    /// An outcome measure linkwork can score or record.
    Instrument {
        Ons4 = "ons4": "ONS personal well-being (ONS4)",
        Ucla3 = "ucla3": "UCLA 3-item loneliness scale",
        Swemwbs = "swemwbs": "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS)",
        Wemwbs = "wemwbs": "Warwick-Edinburgh Mental Wellbeing Scale (WEMWBS)",
        CbiWork = "cbi_work": "Copenhagen Burnout Inventory: work-related burnout",
        Ose6 = "ose6": "Occupational self-efficacy (short scale)",
        Pam = "pam": "Patient Activation Measure (PAM)",
        Eq5d5l = "eq5d5l": "EQ-5D-5L (visual analogue scale)",
        WellbeingStar = "wellbeing_star": "Wellbeing Star",
        Mycaw = "mycaw": "MYCaW (Measure Yourself Concerns and Wellbeing)",
    }
);

/// Who answers the instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Respondent {
    /// The person supported (outcome measures on their record).
    Person,
    /// A link worker about themselves (the workforce area's pulse).
    Worker,
}

/// What the licence lets linkwork do with the instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Licence {
    /// Free to use; the wording ships, with the credit shown beside it.
    Free { credit: &'static str },
    /// Free after registration with the holder; only the scoring ships. A deployer loads the
    /// wording they are licensed to use.
    Registration { holder: &'static str },
    /// Proprietary: never administered here; totals are imported with their source.
    Proprietary { holder: &'static str },
}

/// A band of a scale: scores from `from` (inclusive) up to the next band's `from`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub from: f64,
    pub label: &'static str,
}

/// One reported score of an instrument (ONS4 reports four; the others one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleDef {
    pub code: &'static str,
    pub label: &'static str,
    pub min: f64,
    pub max: f64,
    pub higher_is_better: bool,
    /// In ascending order of `from`; empty where the instrument publishes no bands.
    pub bands: &'static [Band],
}

impl ScaleDef {
    pub fn band(&self, value: f64) -> Option<&'static str> {
        self.bands.iter().rev().find(|b| value >= b.from).map(|b| b.label)
    }
}

/// One question.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Item {
    pub code: &'static str,
    /// The shipped wording, where the licence allows it.
    pub text: Option<&'static str>,
    /// Scored the other way round (the CBI's energy item).
    pub reversed: bool,
    /// The response scale this item uses (index into [`Spec::responses`]).
    pub scale: usize,
}

/// A response scale: the values allowed and, where shipped, what each value says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Responses {
    pub min: i32,
    pub max: i32,
    /// One label per value from `min`, when the wording ships; empty otherwise (loaded wording
    /// gives them).
    pub labels: &'static [&'static str],
}

/// How the answers become scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scoring {
    /// Each item is its own score (ONS4); a missing item has no score, the others stand.
    Separate,
    /// The sum of the items; no score with any item missing.
    Sum,
    /// The sum of the items converted with a published table (SWEMWBS raw → metric); no score
    /// with any item missing.
    SumConverted(&'static [(i32, f64)]),
    /// Each answer is given the points of its position (reversed items the other way), and
    /// the score is the mean of the answered items; no score with fewer than `min_answered`.
    MeanOfPoints { points: &'static [f64], min_answered: usize },
    /// Not administered: a total imported from elsewhere, within the scale's range.
    Imported,
}

/// An instrument's declaration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spec {
    pub instrument: Instrument,
    /// The version answers are stored under, so a score can be recomputed by its own rules.
    pub version: &'static str,
    pub respondent: Respondent,
    pub licence: Licence,
    /// What the person is asked, above the items (shipped where the licence allows).
    pub preamble: Option<&'static str>,
    pub items: &'static [Item],
    pub responses: &'static [Responses],
    pub scoring: Scoring,
    pub scales: &'static [ScaleDef],
    /// The shortest time between two completed administrations in an episode (the recall
    /// period, or how often the instrument is meant to be repeated).
    pub min_interval_days: i64,
    /// Where the scoring comes from, for the people who must trust it.
    pub source: &'static str,
}

impl Spec {
    /// Whether people answer it in linkwork (as opposed to a total imported from elsewhere).
    pub fn is_administered(&self) -> bool {
        self.scoring != Scoring::Imported
    }

    /// Whether it is asked of the people supported, on their record (not a worker's own
    /// question set, not an imported total).
    pub fn is_asked_of_people(&self) -> bool {
        self.respondent == Respondent::Person && self.is_administered()
    }

    /// Whether the wording must be loaded by the deployer before it can be offered.
    pub fn needs_loaded_wording(&self) -> bool {
        matches!(self.licence, Licence::Registration { .. })
    }
}

const fn item(code: &'static str, text: &'static str) -> Item {
    Item { code, text: Some(text), reversed: false, scale: 0 }
}

const fn unworded(code: &'static str) -> Item {
    Item { code, text: None, reversed: false, scale: 0 }
}

const ONS_HIGH: &[Band] = &[
    Band { from: 0.0, label: "Low" },
    Band { from: 5.0, label: "Medium" },
    Band { from: 7.0, label: "High" },
    Band { from: 9.0, label: "Very high" },
];

/// Anxiety is banded the other way: a low score is good.
const ONS_ANXIETY: &[Band] = &[
    Band { from: 0.0, label: "Very low" },
    Band { from: 2.0, label: "Low" },
    Band { from: 4.0, label: "Medium" },
    Band { from: 6.0, label: "High" },
];

const ZERO_TO_TEN: &[&str] = &["0 (not at all)", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10 (completely)"];

pub const ONS4: Spec = Spec {
    instrument: Instrument::Ons4,
    version: "ons4-2011",
    respondent: Respondent::Person,
    licence: Licence::Free {
        credit: "ONS personal well-being questions, Office for National Statistics (Open Government Licence)",
    },
    preamble: Some("On a scale of 0 to 10, where 0 is \"not at all\" and 10 is \"completely\":"),
    items: &[
        item("life_satisfaction", "Overall, how satisfied are you with your life nowadays?"),
        item("worthwhile", "Overall, to what extent do you feel that the things you do in your life are worthwhile?"),
        item("happy", "Overall, how happy did you feel yesterday?"),
        item("anxious", "Overall, how anxious did you feel yesterday?"),
    ],
    responses: &[Responses { min: 0, max: 10, labels: ZERO_TO_TEN }],
    scoring: Scoring::Separate,
    scales: &[
        ScaleDef {
            code: "life_satisfaction",
            label: "Life satisfaction",
            min: 0.0,
            max: 10.0,
            higher_is_better: true,
            bands: ONS_HIGH,
        },
        ScaleDef {
            code: "worthwhile",
            label: "Worthwhile",
            min: 0.0,
            max: 10.0,
            higher_is_better: true,
            bands: ONS_HIGH,
        },
        ScaleDef { code: "happy", label: "Happiness", min: 0.0, max: 10.0, higher_is_better: true, bands: ONS_HIGH },
        ScaleDef {
            code: "anxious",
            label: "Anxiety",
            min: 0.0,
            max: 10.0,
            higher_is_better: false,
            bands: ONS_ANXIETY,
        },
    ],
    min_interval_days: 14,
    source: "ONS, Personal well-being user guidance: each question reported separately; thresholds 0-4 low, 5-6 medium, 7-8 high, 9-10 very high (anxiety 0-1 very low, 2-3 low, 4-5 medium, 6-10 high)",
};

pub const UCLA3: Spec = Spec {
    instrument: Instrument::Ucla3,
    version: "ucla3-2004",
    respondent: Respondent::Person,
    licence: Licence::Free { credit: "Three-item loneliness scale, Hughes et al. (2004), as used by the ONS" },
    preamble: Some(
        "The next questions are about how you feel about different aspects of your life. For each one, say how often you feel that way.",
    ),
    items: &[
        item("companionship", "How often do you feel that you lack companionship?"),
        item("left_out", "How often do you feel left out?"),
        item("isolated", "How often do you feel isolated from others?"),
    ],
    responses: &[Responses { min: 1, max: 3, labels: &["Hardly ever or never", "Some of the time", "Often"] }],
    scoring: Scoring::Sum,
    scales: &[ScaleDef {
        code: "loneliness",
        label: "Loneliness",
        min: 3.0,
        max: 9.0,
        higher_is_better: false,
        bands: &[Band { from: 3.0, label: "Less lonely" }, Band { from: 6.0, label: "More lonely" }],
    }],
    min_interval_days: 14,
    source: "Hughes et al. (2004), Res Aging 26(6): total 3-9, no total with an item missing; 6 and over read as lonely (Steptoe et al. 2013)",
};

/// The published raw-to-metric conversion for SWEMWBS (Stewart-Brown et al. 2009; Warwick
/// Medical School's scoring table).
pub const SWEMWBS_METRIC: &[(i32, f64)] = &[
    (7, 7.00),
    (8, 9.51),
    (9, 11.25),
    (10, 12.40),
    (11, 13.33),
    (12, 14.08),
    (13, 14.75),
    (14, 15.32),
    (15, 15.84),
    (16, 16.36),
    (17, 16.88),
    (18, 17.43),
    (19, 17.98),
    (20, 18.59),
    (21, 19.25),
    (22, 19.98),
    (23, 20.73),
    (24, 21.54),
    (25, 22.35),
    (26, 23.21),
    (27, 24.11),
    (28, 25.03),
    (29, 26.02),
    (30, 27.03),
    (31, 28.13),
    (32, 29.31),
    (33, 30.70),
    (34, 32.55),
    (35, 35.00),
];

/// Bands on the metric score, from the population thresholds used with (S)WEMWBS (Ng Fat et al.
/// 2017): low below 18, below average to 21, average to 28, high from 28.
const SWEMWBS_BANDS: &[Band] = &[
    Band { from: 7.0, label: "Low" },
    Band { from: 18.0, label: "Below average" },
    Band { from: 21.0, label: "Average" },
    Band { from: 28.0, label: "High" },
];

const WARWICK: Licence = Licence::Registration {
    holder: "University of Warwick, NHS Health Scotland and the University of Edinburgh (register at warwick.ac.uk/wemwbs)",
};

pub const SWEMWBS: Spec = Spec {
    instrument: Instrument::Swemwbs,
    version: "swemwbs-2009",
    respondent: Respondent::Person,
    licence: WARWICK,
    preamble: None,
    items: &[
        unworded("item1"),
        unworded("item2"),
        unworded("item3"),
        unworded("item4"),
        unworded("item5"),
        unworded("item6"),
        unworded("item7"),
    ],
    responses: &[Responses { min: 1, max: 5, labels: &[] }],
    scoring: Scoring::SumConverted(SWEMWBS_METRIC),
    scales: &[ScaleDef {
        code: "metric",
        label: "Mental wellbeing (metric score)",
        min: 7.0,
        max: 35.0,
        higher_is_better: true,
        bands: SWEMWBS_BANDS,
    }],
    min_interval_days: 14,
    source: "Stewart-Brown et al. (2009): raw 7-35 converted to the metric score before any comparison; no score with an item missing",
};

pub const WEMWBS: Spec = Spec {
    instrument: Instrument::Wemwbs,
    version: "wemwbs-2007",
    respondent: Respondent::Person,
    licence: WARWICK,
    preamble: None,
    items: &[
        unworded("item1"),
        unworded("item2"),
        unworded("item3"),
        unworded("item4"),
        unworded("item5"),
        unworded("item6"),
        unworded("item7"),
        unworded("item8"),
        unworded("item9"),
        unworded("item10"),
        unworded("item11"),
        unworded("item12"),
        unworded("item13"),
        unworded("item14"),
    ],
    responses: &[Responses { min: 1, max: 5, labels: &[] }],
    scoring: Scoring::Sum,
    scales: &[ScaleDef {
        code: "total",
        label: "Mental wellbeing",
        min: 14.0,
        max: 70.0,
        higher_is_better: true,
        bands: &[
            Band { from: 14.0, label: "Low" },
            Band { from: 41.0, label: "Below average" },
            Band { from: 45.0, label: "Average" },
            Band { from: 60.0, label: "High" },
        ],
    }],
    min_interval_days: 14,
    source: "Tennant et al. (2007): the sum of 14 items, 14-70; no score with an item missing (the conservative reading of the user guide); bands 40 and under, 41-44, 45-59, 60 and over",
};

/// Every declaration, in the order people see them.
pub const ALL: &[&Spec] = &[&ONS4, &UCLA3, &SWEMWBS, &WEMWBS, &CBI_WORK, &OSE6, &PAM, &EQ5D5L, &WELLBEING_STAR, &MYCAW];

/// The declaration of `instrument` (a match, so a new instrument without one does not compile).
pub fn spec(instrument: Instrument) -> &'static Spec {
    match instrument {
        Instrument::Ons4 => &ONS4,
        Instrument::Ucla3 => &UCLA3,
        Instrument::Swemwbs => &SWEMWBS,
        Instrument::Wemwbs => &WEMWBS,
        Instrument::CbiWork => &CBI_WORK,
        Instrument::Ose6 => &OSE6,
        Instrument::Pam => &PAM,
        Instrument::Eq5d5l => &EQ5D5L,
        Instrument::WellbeingStar => &WELLBEING_STAR,
        Instrument::Mycaw => &MYCAW,
    }
}
