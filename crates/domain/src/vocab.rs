//! Coded vocabularies: closed lists whose stored code, label for people and order are declared
//! once. Each becomes an enum with `ALL`, `as_str`, `label` and `FromStr`, so a stored value that
//! is not in the list fails to load instead of being shown as something it is not.

/// Declare a vocabulary: `vocabulary!(Name { Variant = "code" : "Label", ... })`. The first
/// variant is the default.
#[macro_export]
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $first:ident = $fcode:literal : $flabel:literal $(, $variant:ident = $code:literal : $label:literal)* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            #[default]
            #[serde(rename = $fcode)]
            $first,
            $(#[serde(rename = $code)] $variant,)*
        }

        impl $name {
            /// Every value, in the order people see them.
            pub const ALL: &'static [$name] = &[$name::$first $(, $name::$variant)*];

            /// The stored code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $name::$first => $fcode,
                    $($name::$variant => $code,)*
                }
            }

            /// The label for people.
            pub fn label(self) -> &'static str {
                match self {
                    $name::$first => $flabel,
                    $($name::$variant => $label,)*
                }
            }

            /// `(code, label)` pairs, for select lists and documentation.
            pub fn options() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|v| (v.as_str(), v.label())).collect()
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::values::InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                if s.is_empty() {
                    return Err($crate::values::InvalidValue("Choose one of the options".into()));
                }
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::values::InvalidValue(format!("Choose one of the listed options ({} is not one)", s)))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

/// Parse a comma-separated list of codes (as stored) into values, keeping their order and
/// dropping repeats.
pub fn parse_list<T: std::str::FromStr + PartialEq>(s: &str) -> Result<Vec<T>, T::Err> {
    let mut out: Vec<T> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v = part.parse()?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}
