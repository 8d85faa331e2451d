//! Enums whose values have names, such as the values of a flag: `named_values!` declares one with
//! its `NAMES`, `name()` and `FromStr`, so that the modules that own them need no command-line
//! library and `config` can offer exactly those names.

/// Declares `enum $name { $variant => "name", … }` with `NAMES`, `name()`, `FromStr` and
/// `Display` (its name).
#[macro_export]
macro_rules! named_values {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every value's name, in declaration order.
            pub const NAMES: [&'static str; [$($text),+].len()] = [$($text),+];

            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $text ),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                match raw {
                    $( $text => Ok(Self::$variant), )+
                    other => Err(format!("{other:?} is not one of {}", Self::NAMES.join(", "))),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::named_values! {
        enum Colour {
            Red => "red",
            DarkBlue => "dark-blue",
        }
    }

    #[test]
    fn names_read_and_write_each_value() {
        assert_eq!(Colour::NAMES, ["red", "dark-blue"]);
        for name in Colour::NAMES {
            let colour: Colour = name.parse().unwrap();
            assert_eq!(colour.name(), name);
            assert_eq!(colour.to_string(), name);
        }
        let refused = "blue".parse::<Colour>().unwrap_err();
        assert!(refused.contains("red, dark-blue"), "{refused}");
    }
}
