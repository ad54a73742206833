//! What a report run writes, as `--format` names it: one report's table in a [`Format`], or the
//! HTML page of every report.

use std::path::Path;

use clap::builder::PossibleValue;

use super::export::Format;

/// One report's table in a format, or the page of every report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendering {
    Table(Format),
    /// One self-contained HTML page of every report, with charts.
    Page,
}

impl Rendering {
    const ALL: [Rendering; 6] = [
        Rendering::Table(Format::Table),
        Rendering::Table(Format::Csv),
        Rendering::Table(Format::Json),
        Rendering::Table(Format::Markdown),
        Rendering::Table(Format::Parquet),
        Rendering::Page,
    ];

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Rendering::Table(format) => format.extension(),
            Rendering::Page => "html",
        }
    }

    /// The rendering a file name asks for by its extension, if any.
    pub fn from_extension(path: &Path) -> Option<Rendering> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "md" | "markdown" => Some(Rendering::Table(Format::Markdown)),
            "htm" => Some(Rendering::Page),
            other => Self::ALL
                .into_iter()
                .find(|rendering| rendering.extension() == other),
        }
    }

    /// What `--format` asks for, else what the `--out` file's extension does; CSV for `all`
    /// (every report into a directory), the terminal table otherwise.
    pub fn chosen(format: Option<Rendering>, all: bool, out: Option<&Path>) -> Rendering {
        match (format, all) {
            (Some(rendering), _) => rendering,
            (None, true) => Rendering::Table(Format::Csv),
            (None, false) => out
                .and_then(Rendering::from_extension)
                .unwrap_or(Rendering::Table(Format::Table)),
        }
    }

    /// The name `--format` gives it.
    fn name(self) -> &'static str {
        match self {
            Rendering::Table(Format::Table) => "table",
            Rendering::Table(Format::Csv) => "csv",
            Rendering::Table(Format::Json) => "json",
            Rendering::Table(Format::Markdown) => "markdown",
            Rendering::Table(Format::Parquet) => "parquet",
            Rendering::Page => "html",
        }
    }
}

impl clap::ValueEnum for Rendering {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let value = PossibleValue::new(self.name());
        Some(match self {
            Rendering::Page => value.help("one self-contained page of every report, with charts"),
            Rendering::Table(_) => value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_name_renderings() {
        let of = |name: &str| Rendering::from_extension(Path::new(name));
        assert_eq!(of("a.CSV"), Some(Rendering::Table(Format::Csv)));
        assert_eq!(of("a.md"), Some(Rendering::Table(Format::Markdown)));
        assert_eq!(of("a.markdown"), Some(Rendering::Table(Format::Markdown)));
        assert_eq!(of("a.txt"), Some(Rendering::Table(Format::Table)));
        assert_eq!(of("a.parquet"), Some(Rendering::Table(Format::Parquet)));
        assert_eq!(of("a.json"), Some(Rendering::Table(Format::Json)));
        assert_eq!(of("a.html"), Some(Rendering::Page));
        assert_eq!(of("a.htm"), Some(Rendering::Page));
        assert_eq!(of("a.xlsx"), None);
        assert_eq!(of("a"), None);
    }
}
