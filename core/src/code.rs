//! `code_enum!`: enums whose variants have stable text codes (stored in documents, sent over the
//! wire, shown to scripts). One macro so every such enum parses, prints and serialises the same
//! way, with a typed error naming the field on an unknown code.

/// Declares an enum with stable snake_case codes, `ALL`, `as_str`, `parse` and `Display`.
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The variant with this code.
            ///
            /// # Errors
            #[doc = concat!("[`CoreError::Invalid`](crate::CoreError::Invalid) naming `", $field, "` for an unknown code.")]
            pub fn parse(code: &str) -> Result<Self, $crate::error::CoreError> {
                Self::ALL.iter().copied().find(|v| v.as_str() == code).ok_or_else(|| {
                    $crate::error::CoreError::invalid(
                        $field,
                        format!("unknown {} `{}`", $field, code),
                    )
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
