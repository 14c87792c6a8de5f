//! The question sets link workers answer about themselves (the workforce area's pulse), on the
//! same engine as the person's measures.

use super::*;

const CBI_FREQUENCY: &[&str] = &["Always", "Often", "Sometimes", "Seldom", "Never or almost never"];
const CBI_DEGREE: &[&str] =
    &["To a very high degree", "To a high degree", "Somewhat", "To a low degree", "To a very low degree"];

pub const CBI_WORK: Spec = Spec {
    instrument: Instrument::CbiWork,
    version: "cbi-2005-work",
    respondent: Respondent::Worker,
    licence: Licence::Free { credit: "Copenhagen Burnout Inventory, Kristensen et al. (2005), free to use" },
    preamble: Some("Thinking about your work as a link worker:"),
    items: &[
        item("worn_out", "Do you feel worn out at the end of the working day?"),
        item("exhausted_morning", "Are you exhausted in the morning at the thought of another day at work?"),
        item("every_hour_tiring", "Do you feel that every working hour is tiring for you?"),
        Item {
            code: "energy_leisure",
            text: Some("Do you have enough energy for family and friends during leisure time?"),
            reversed: true,
            scale: 0,
        },
        Item {
            code: "emotionally_exhausting",
            text: Some("Is your work emotionally exhausting?"),
            reversed: false,
            scale: 1,
        },
        Item { code: "frustrate", text: Some("Does your work frustrate you?"), reversed: false, scale: 1 },
        Item {
            code: "burnt_out",
            text: Some("Do you feel burnt out because of your work?"),
            reversed: false,
            scale: 1,
        },
    ],
    responses: &[Responses { min: 1, max: 5, labels: CBI_FREQUENCY }, Responses { min: 1, max: 5, labels: CBI_DEGREE }],
    scoring: Scoring::MeanOfPoints { points: &[100.0, 75.0, 50.0, 25.0, 0.0], min_answered: 3 },
    scales: &[ScaleDef {
        code: "work_burnout",
        label: "Work-related burnout",
        min: 0.0,
        max: 100.0,
        higher_is_better: false,
        bands: &[Band { from: 0.0, label: "Lower" }, Band { from: 50.0, label: "High" }],
    }],
    min_interval_days: 28,
    source: "Kristensen et al. (2005), Work & Stress 19(3): answers scored 100/75/50/25/0, the energy item reversed, the mean of the answered items; missing with fewer than three answered; 50 and over read as high",
};

pub const OSE6: Spec = Spec {
    instrument: Instrument::Ose6,
    version: "ose6-2008",
    respondent: Respondent::Worker,
    licence: Licence::Free { credit: "Short occupational self-efficacy scale, Rigotti, Schyns and Mohr (2008)" },
    preamble: Some("How true is each statement for you?"),
    items: &[
        item("calm", "I can remain calm when facing difficulties in my job because I can rely on my abilities."),
        item("solutions", "When I am confronted with a problem in my job, I can usually find several solutions."),
        item("handle", "Whatever comes my way in my job, I can usually handle it."),
        item("prepared_experience", "My past experiences in my job have prepared me well for my occupational future."),
        item("goals", "I meet the goals that I set for myself in my job."),
        item("demands", "I feel prepared for most of the demands in my job."),
    ],
    responses: &[Responses {
        min: 1,
        max: 6,
        labels: &["Not at all true", "Hardly true", "Somewhat true", "Fairly true", "Mostly true", "Completely true"],
    }],
    scoring: Scoring::Sum,
    scales: &[ScaleDef {
        code: "self_efficacy",
        label: "Occupational self-efficacy",
        min: 6.0,
        max: 36.0,
        higher_is_better: true,
        bands: &[],
    }],
    min_interval_days: 84,
    source: "Rigotti, Schyns and Mohr (2008), J Career Assess 16(2): the sum of six items, 6-36; no score with an item missing",
};
