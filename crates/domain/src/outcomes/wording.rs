//! The wording of an instrument: shipped with the declaration where the licence allows, or
//! loaded by the deployer who holds the licence (`linkwork outcomes load-wording FILE`), in any
//! language. A questionnaire is the declaration with its wording, ready to show.

use super::instruments::{Instrument, Spec, spec};
use crate::values::{TextKind, check_text};
use serde::{Deserialize, Serialize};

/// Wording loaded by a deployer: one file per instrument and language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    pub instrument: Instrument,
    /// The language, as people's records name it ("English", "Polish", "Urdu").
    pub language: String,
    /// What the licence is: a registration reference, say. Shown to administrators.
    pub licence: String,
    #[serde(default)]
    pub preamble: Option<String>,
    /// One per item, in the declaration's order.
    pub items: Vec<String>,
    /// One list of labels per response scale of the declaration, one label per value.
    pub responses: Vec<Vec<String>>,
}

impl Wording {
    /// Read a wording file (JSON), checking it against the instrument's declaration: every
    /// problem at once, one sentence each.
    pub fn parse(text: &str) -> Result<Wording, Vec<String>> {
        let w: Wording =
            serde_json::from_str(text).map_err(|e| vec![format!("The file is not a wording file: {e}")])?;
        let s = spec(w.instrument);
        let mut problems = vec![];
        if !s.is_administered() {
            problems.push(format!(
                "{} is proprietary: linkwork records its totals, never its wording",
                w.instrument.label()
            ));
        }
        if let Err(e) = check_text(&w.language, TextKind::Line, 60) {
            problems.push(format!("language: {e}"));
        }
        if w.language.trim().is_empty() {
            problems.push("language: say which language the wording is in".into());
        }
        if w.licence.trim().is_empty() && s.needs_loaded_wording() {
            problems.push("licence: say what licence lets you use this wording (a registration reference)".into());
        }
        if w.items.len() != s.items.len() {
            problems.push(format!(
                "items: {} has {} items; the file has {}",
                w.instrument.label(),
                s.items.len(),
                w.items.len()
            ));
        }
        for (n, t) in w.items.iter().enumerate() {
            if t.trim().is_empty() {
                problems.push(format!("items: item {} is empty", n + 1));
            } else if let Err(e) = check_text(t, TextKind::Line, 400) {
                problems.push(format!("items: item {}: {e}", n + 1));
            }
        }
        if w.responses.len() != s.responses.len() {
            problems.push(format!(
                "responses: {} has {} response scale(s); the file has {}",
                w.instrument.label(),
                s.responses.len(),
                w.responses.len()
            ));
        }
        for (n, (labels, r)) in w.responses.iter().zip(s.responses).enumerate() {
            let want = (r.max - r.min + 1) as usize;
            if labels.len() != want {
                problems.push(format!(
                    "responses: scale {} needs {want} labels ({} to {}); the file has {}",
                    n + 1,
                    r.min,
                    r.max,
                    labels.len()
                ));
            }
            if labels.iter().any(|l| l.trim().is_empty() || check_text(l, TextKind::Line, 120).is_err()) {
                problems.push(format!("responses: scale {} has an empty or unreadable label", n + 1));
            }
        }
        if let Some(p) = &w.preamble
            && let Err(e) = check_text(p, TextKind::Lines, 1000)
        {
            problems.push(format!("preamble: {e}"));
        }
        if problems.is_empty() { Ok(w) } else { Err(problems) }
    }
}

/// One question as shown: its code (the form field), wording and answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub code: &'static str,
    pub number: usize,
    pub text: String,
    /// Value and label, in the scale's order.
    pub options: Vec<(i32, String)>,
}

/// An instrument ready to show: the declaration with the wording in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Questionnaire {
    pub instrument: Instrument,
    pub language: String,
    pub preamble: Option<String>,
    pub questions: Vec<Question>,
    /// The credit the licence asks for, or the loaded wording's licence.
    pub credit: String,
}

/// Why an instrument cannot be offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotOffered {
    #[error("its licence requires registration, and no wording has been loaded for this installation")]
    WordingNotLoaded,
    #[error("it is proprietary: record its total as imported instead")]
    Proprietary,
}

/// The questionnaire for `instrument` in `language` where wording in that language is loaded,
/// otherwise in English (shipped or loaded), otherwise in a language loaded. `loaded` is every wording loaded for the
/// instrument.
pub fn questionnaire(instrument: Instrument, language: &str, loaded: &[Wording]) -> Result<Questionnaire, NotOffered> {
    let s: &Spec = spec(instrument);
    if !s.is_administered() {
        return Err(NotOffered::Proprietary);
    }
    let pick =
        |lang: &str| loaded.iter().find(|w| w.instrument == instrument && w.language.eq_ignore_ascii_case(lang.trim()));
    // The person's language, else English, else whatever is loaded: an instrument is offered
    // once any wording of it is (the rule the pages use to offer it).
    let wording =
        pick(language).or_else(|| pick("English")).or_else(|| loaded.iter().find(|w| w.instrument == instrument));
    let shipped = matches!(s.licence, super::Licence::Free { .. });
    let credit = match (wording, s.licence) {
        (Some(w), super::Licence::Free { credit }) => {
            format!("{credit}. {}", w.licence).trim_end_matches(". ").to_owned()
        }
        (Some(w), _) => w.licence.clone(),
        (None, super::Licence::Free { credit }) => credit.to_owned(),
        (None, _) => return Err(NotOffered::WordingNotLoaded),
    };
    debug_assert!(wording.is_some() || shipped);
    let questions = s
        .items
        .iter()
        .enumerate()
        .map(|(n, it)| {
            let r = s.responses[it.scale];
            let text = wording.and_then(|w| w.items.get(n).cloned()).or(it.text.map(str::to_owned)).unwrap_or_default();
            let labels: Vec<String> = match wording.and_then(|w| w.responses.get(it.scale)) {
                Some(l) => l.clone(),
                None => r.labels.iter().map(|l| (*l).to_owned()).collect(),
            };
            let options = (r.min..=r.max)
                .map(|v| (v, labels.get((v - r.min) as usize).cloned().unwrap_or_else(|| v.to_string())))
                .collect();
            Question { code: it.code, number: n + 1, text, options }
        })
        .collect();
    Ok(Questionnaire {
        instrument,
        language: wording.map_or_else(|| "English".to_owned(), |w| w.language.clone()),
        preamble: wording.and_then(|w| w.preamble.clone()).or(s.preamble.map(str::to_owned)),
        questions,
        credit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_swemwbs(language: &str) -> String {
        serde_json::json!({
            "instrument": "swemwbs",
            "language": language,
            "licence": "Test wording, registration TEST-1",
            "items": (1..=7).map(|n| format!("Test statement {n}")).collect::<Vec<_>>(),
            "responses": [["None of the time", "Rarely", "Some of the time", "Often", "All of the time"]],
        })
        .to_string()
    }

    #[test]
    fn a_licensed_instrument_is_offered_only_once_its_wording_is_loaded() {
        assert_eq!(questionnaire(Instrument::Swemwbs, "English", &[]), Err(NotOffered::WordingNotLoaded));
        let w = Wording::parse(&test_swemwbs("English")).unwrap();
        let q = questionnaire(Instrument::Swemwbs, "Polish", &[w]).unwrap();
        assert_eq!(q.language, "English", "falls back to English");
        assert_eq!(q.questions.len(), 7);
        assert_eq!(q.questions[0].options[0], (1, "None of the time".into()));
        assert_eq!(q.credit, "Test wording, registration TEST-1");
        assert_eq!(questionnaire(Instrument::Pam, "English", &[]), Err(NotOffered::Proprietary));
    }

    #[test]
    fn free_instruments_ship_their_wording_and_take_translations() {
        let q = questionnaire(Instrument::Ons4, "Welsh", &[]).unwrap();
        assert_eq!(q.questions[0].text, "Overall, how satisfied are you with your life nowadays?");
        assert_eq!(q.questions[0].options.len(), 11);
        let welsh = serde_json::json!({
            "instrument": "ucla3", "language": "Welsh", "licence": "",
            "items": ["Cwestiwn 1", "Cwestiwn 2", "Cwestiwn 3"],
            "responses": [["Bron byth", "Weithiau", "Yn aml"]],
        });
        let w = Wording::parse(&welsh.to_string()).unwrap();
        let q = questionnaire(Instrument::Ucla3, "welsh", &[w]).unwrap();
        assert_eq!(q.language, "Welsh");
        assert_eq!(q.questions[2].text, "Cwestiwn 3");
        assert!(q.credit.starts_with("Three-item loneliness scale"));
    }

    #[test]
    fn a_wording_file_that_does_not_fit_its_declaration_says_every_problem() {
        let bad = serde_json::json!({
            "instrument": "swemwbs", "language": "English", "licence": "",
            "items": ["one", ""], "responses": [["a", "b"]],
        });
        let e = Wording::parse(&bad.to_string()).unwrap_err();
        assert!(e.iter().any(|p| p.contains("has 7 items; the file has 2")), "{e:?}");
        assert!(e.iter().any(|p| p.contains("item 2 is empty")));
        assert!(e.iter().any(|p| p.contains("needs 5 labels")));
        assert!(e.iter().any(|p| p.starts_with("licence:")));
        assert!(Wording::parse("{\"instrument\": \"pam\"}").is_err());
        let e = Wording::parse(&test_swemwbs("English").replace("swemwbs", "pam")).unwrap_err();
        assert!(e.iter().any(|p| p.contains("proprietary")));
        assert!(Wording::parse("not json").unwrap_err()[0].starts_with("The file is not a wording file"));
    }
}
