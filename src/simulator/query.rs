//! The query options of a directoryAudits request: `$filter`, `$top` and `$skiptoken`.
//!
//! `$filter` takes the part of Graph's documented audit-log filter syntax that a fetch of SSPR
//! records needs: clauses joined by `and`, each `activityDateTime` compared (`eq`, `ge`, `gt`,
//! `le`, `lt`) with an RFC 3339 timestamp (fractional digits optional, `Z` or an offset), or
//! `loggedByService eq '<text>'` (`''` escapes a quote). Property names and operators match
//! ignoring ASCII case, as OData does. Anything else is refused with the reason, as Graph
//! refuses what it cannot filter on, rather than silently serving everything.

use chrono::{DateTime, Utc};

/// A parsed query. `filter_text` is the decoded `$filter` as given, repeated in nextLinks.
pub(super) struct AuditQuery {
    pub filter: Filter,
    pub filter_text: Option<String>,
    pub top: Option<usize>,
    pub skiptoken: Option<String>,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub(super) enum QueryError {
    #[error("Invalid filter clause: {0}")]
    Filter(String),
    #[error("Invalid value '{0}' for query option '$top': it must be a positive integer.")]
    Top(String),
    #[error("Query option '{0}' is specified more than once.")]
    Repeated(String),
    #[error("Query option '{0}' is not supported.")]
    Unsupported(String),
}

impl AuditQuery {
    /// Parses the raw (still percent-encoded) query string of the request.
    pub fn parse(raw_query: &str) -> Result<AuditQuery, QueryError> {
        let mut filter_text = None;
        let mut top = None;
        let mut skiptoken = None;
        for (name, value) in url::form_urlencoded::parse(raw_query.as_bytes()) {
            let slot = match name.as_ref() {
                "$filter" => &mut filter_text,
                "$top" => &mut top,
                "$skiptoken" => &mut skiptoken,
                other if other.starts_with('$') => {
                    return Err(QueryError::Unsupported(other.to_owned()));
                }
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(QueryError::Repeated(name.into_owned()));
            }
        }
        let filter = match &filter_text {
            Some(text) => Filter::parse(text)?,
            None => Filter::default(),
        };
        let top = top
            .map(|text| match text.parse::<usize>() {
                Ok(count) if count > 0 => Ok(count),
                _ => Err(QueryError::Top(text)),
            })
            .transpose()?;
        Ok(AuditQuery {
            filter,
            filter_text,
            top,
            skiptoken,
        })
    }
}

/// Clauses that must all hold.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Filter {
    clauses: Vec<Clause>,
}

#[derive(Debug, PartialEq)]
enum Clause {
    ActivityTime(Comparison, DateTime<Utc>),
    LoggedByService(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Comparison {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

/// A lexical piece of a filter: a bare word or a quoted string (quotes removed, `''` undone).
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let invalid = |reason: String| QueryError::Filter(reason);
        let mut tokens = tokenize(text).map_err(invalid)?.into_iter();
        let mut clauses = Vec::new();
        loop {
            let property = match tokens.next() {
                Some(Token::Word(word)) => word,
                Some(Token::Quoted(text)) => {
                    return Err(invalid(format!("expected a property name, found '{text}'")));
                }
                None => return Err(invalid("expected a comparison, found the end".to_owned())),
            };
            let operator = match tokens.next() {
                Some(Token::Word(word)) => word,
                _ => return Err(invalid(format!("expected an operator after '{property}'"))),
            };
            let value = tokens
                .next()
                .ok_or_else(|| invalid(format!("expected a value after '{operator}'")))?;
            clauses.push(Clause::parse(&property, &operator, value).map_err(invalid)?);
            match tokens.next() {
                None => return Ok(Filter { clauses }),
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("and") => {}
                Some(Token::Word(word) | Token::Quoted(word)) => {
                    return Err(invalid(format!(
                        "expected 'and' or the end, found '{word}' (only 'and' joins clauses)"
                    )));
                }
            }
        }
    }

    /// Whether a record with this activity time and service passes; a record without a
    /// (parseable) time or service fails any clause on it.
    pub fn matches(&self, time: Option<DateTime<Utc>>, service: Option<&str>) -> bool {
        self.clauses.iter().all(|clause| match clause {
            Clause::ActivityTime(comparison, bound) => time.is_some_and(|time| match comparison {
                Comparison::Eq => time == *bound,
                Comparison::Ge => time >= *bound,
                Comparison::Gt => time > *bound,
                Comparison::Le => time <= *bound,
                Comparison::Lt => time < *bound,
            }),
            Clause::LoggedByService(expected) => service == Some(expected.as_str()),
        })
    }
}

impl Clause {
    fn parse(property: &str, operator: &str, value: Token) -> Result<Clause, String> {
        if property.eq_ignore_ascii_case("activityDateTime") {
            let comparison = match operator.to_ascii_lowercase().as_str() {
                "eq" => Comparison::Eq,
                "ge" => Comparison::Ge,
                "gt" => Comparison::Gt,
                "le" => Comparison::Le,
                "lt" => Comparison::Lt,
                _ => {
                    return Err(format!(
                        "operator '{operator}' is not supported on activityDateTime"
                    ));
                }
            };
            let Token::Word(text) = value else {
                return Err("activityDateTime takes an unquoted RFC 3339 timestamp".to_owned());
            };
            let time = DateTime::parse_from_rfc3339(&text)
                .map_err(|err| format!("'{text}' is not an RFC 3339 timestamp: {err}"))?;
            return Ok(Clause::ActivityTime(comparison, time.with_timezone(&Utc)));
        }
        if property.eq_ignore_ascii_case("loggedByService") {
            if !operator.eq_ignore_ascii_case("eq") {
                return Err(format!(
                    "operator '{operator}' is not supported on loggedByService"
                ));
            }
            let Token::Quoted(text) = value else {
                return Err("loggedByService takes a quoted string".to_owned());
            };
            return Ok(Clause::LoggedByService(text));
        }
        Err(format!("filtering on '{property}' is not supported"))
    }
}

/// Splits a filter into words and quoted strings; parentheses are refused here.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&next) = chars.peek() {
        if next.is_whitespace() {
            chars.next();
        } else if next == '\'' {
            chars.next();
            let mut quoted = String::new();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        quoted.push('\'');
                    }
                    Some('\'') => break,
                    Some(other) => quoted.push(other),
                    None => return Err("a quoted string is not closed".to_owned()),
                }
            }
            tokens.push(Token::Quoted(quoted));
        } else if next == '(' || next == ')' {
            return Err("parentheses are not supported".to_owned());
        } else {
            let mut word = String::new();
            while let Some(&next) = chars.peek() {
                if next.is_whitespace() || matches!(next, '\'' | '(' | ')') {
                    break;
                }
                word.push(next);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<DateTime<Utc>> {
        Some(
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn the_fetchers_filter_parses_and_matches() {
        let filter = Filter::parse(
            "loggedByService eq 'Self-service Password Management' and activityDateTime ge \
             2026-09-20T00:00:00Z and activityDateTime le 2026-11-05T00:00:00.1234567+00:00",
        )
        .unwrap();
        let sspr = Some("Self-service Password Management");
        assert!(filter.matches(at("2026-09-20T00:00:00Z"), sspr));
        assert!(filter.matches(at("2026-11-05T00:00:00.1234567Z"), sspr));
        assert!(!filter.matches(at("2026-11-05T00:00:00.1234568Z"), sspr));
        assert!(!filter.matches(at("2026-09-19T23:59:59.9Z"), sspr));
        assert!(!filter.matches(at("2026-10-01T00:00:00Z"), Some("Core Directory")));
        assert!(!filter.matches(None, sspr));
    }

    #[test]
    fn strict_comparisons_quotes_and_case() {
        let filter = Filter::parse(
            "ActivityDateTime GT 2026-10-01T00:00:00+02:00 and activityDateTime lt \
             2026-10-02T00:00:00Z and loggedByService eq 'O''Brien''s service'",
        )
        .unwrap();
        let service = Some("O'Brien's service");
        assert!(!filter.matches(at("2026-09-30T22:00:00Z"), service));
        assert!(filter.matches(at("2026-09-30T22:00:00.001Z"), service));
        assert!(!filter.matches(at("2026-10-02T00:00:00Z"), service));
    }

    #[test]
    fn unsupported_filters_are_refused_with_a_reason() {
        for (filter, reason) in [
            ("category eq 'UserManagement'", "filtering on 'category'"),
            ("loggedByService ne 'x'", "operator 'ne'"),
            (
                "activityDateTime ge 2026-13-01T00:00:00Z",
                "not an RFC 3339",
            ),
            ("activityDateTime ge '2026-10-01T00:00:00Z'", "unquoted"),
            (
                "loggedByService eq 'a' or loggedByService eq 'b'",
                "only 'and'",
            ),
            ("(loggedByService eq 'a')", "parentheses"),
            ("loggedByService eq 'a", "not closed"),
            ("loggedByService eq", "expected a value"),
            ("loggedByService eq 'a' and", "found the end"),
            ("", "found the end"),
        ] {
            let QueryError::Filter(message) = Filter::parse(filter).unwrap_err() else {
                panic!("{filter}: not a filter error");
            };
            assert!(message.contains(reason), "{filter}: {message}");
        }
    }

    #[test]
    fn query_options() {
        let query = AuditQuery::parse(
            "%24filter=loggedByService+eq+%27SSPR%27&$top=200&$skiptoken=abc&api-version=1",
        )
        .unwrap();
        assert_eq!(
            query.filter_text.as_deref(),
            Some("loggedByService eq 'SSPR'")
        );
        assert_eq!(query.top, Some(200));
        assert_eq!(query.skiptoken.as_deref(), Some("abc"));
        assert_eq!(AuditQuery::parse("").unwrap().filter, Filter::default());
        for (raw, error) in [
            ("$top=0", QueryError::Top("0".to_owned())),
            ("$top=ten", QueryError::Top("ten".to_owned())),
            ("$top=1&$top=2", QueryError::Repeated("$top".to_owned())),
            (
                "$orderby=id",
                QueryError::Unsupported("$orderby".to_owned()),
            ),
        ] {
            assert_eq!(AuditQuery::parse(raw).err(), Some(error), "{raw}");
        }
    }
}
