//! Proprietary measures: never administered here, their totals imported with the source named.

use super::*;

/// A measure whose total is imported: its one scale is declared beside it.
const fn imported(instrument: Instrument, holder: &'static str, source: &'static str) -> Spec {
    Spec {
        instrument,
        version: "imported",
        respondent: Respondent::Person,
        licence: Licence::Proprietary { holder },
        preamble: None,
        items: &[],
        responses: &[],
        scoring: Scoring::Imported,
        scales: &[],
        min_interval_days: 0,
        source,
    }
}

pub const PAM: Spec = Spec {
    scales: &[ScaleDef {
        code: "activation",
        label: "Activation score",
        min: 0.0,
        max: 100.0,
        higher_is_better: true,
        bands: &[
            Band { from: 0.0, label: "Level 1" },
            Band { from: 47.1, label: "Level 2" },
            Band { from: 55.2, label: "Level 3" },
            Band { from: 67.1, label: "Level 4" },
        ],
    }],
    ..imported(
        Instrument::Pam,
        "Insignia Health / Phreesia (licensed)",
        "The PAM activation score (0-100) as reported by the licensed PAM tool",
    )
};

pub const EQ5D5L: Spec = Spec {
    scales: &[ScaleDef {
        code: "vas",
        label: "EQ VAS (health today)",
        min: 0.0,
        max: 100.0,
        higher_is_better: true,
        bands: &[],
    }],
    ..imported(
        Instrument::Eq5d5l,
        "EuroQol Research Foundation (registration)",
        "The EQ VAS (0-100) as recorded on the licensed EQ-5D-5L form",
    )
};

pub const WELLBEING_STAR: Spec = Spec {
    scales: &[ScaleDef {
        code: "mean",
        label: "Mean across outcome areas",
        min: 1.0,
        max: 10.0,
        higher_is_better: true,
        bands: &[],
    }],
    ..imported(
        Instrument::WellbeingStar,
        "Triangle Consulting Social Enterprise (licensed)",
        "The mean of the outcome areas' readings (1-10) from the Star Online",
    )
};

pub const MYCAW: Spec = Spec {
    scales: &[ScaleDef {
        code: "profile",
        label: "MYCaW profile score",
        min: 0.0,
        max: 6.0,
        higher_is_better: false,
        bands: &[],
    }],
    ..imported(
        Instrument::Mycaw,
        "Meaningful Measures Ltd (registration)",
        "The MYCaW profile score (0-6, lower is better) from the registered form",
    )
};
