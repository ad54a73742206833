//! The query options of a directoryAudits request: `$filter`, `$top` and `$skiptoken`.
//!
//! `$filter` takes the part of Graph's documented audit-log filter syntax that a fetch of SSPR
//! records needs: clauses joined by `and`, each `activityDateTime` compared (`eq`, `ge`, `gt`,
//! `le`, `lt`) with an RFC 3339 timestamp (fractional digits optional, `Z` or an offset),
//! `loggedByService eq '<text>'` or `activityDisplayName eq '<text>'` (`''` escapes a quote),
//! or such comparisons joined by `or` in parentheses (`(loggedByService eq 'A' or
//! loggedByService eq 'B')`). Property names and operators match ignoring ASCII case, as OData
//! does. Anything else is refused with the reason, as Graph refuses what it cannot filter on,
//! rather than silently serving everything.

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

/// What a filter looks at in a record.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Filtered<'a> {
    pub time: Option<DateTime<Utc>>,
    pub service: Option<&'a str>,
    pub activity: Option<&'a str>,
}

#[derive(Debug, PartialEq)]
enum Clause {
    ActivityTime(Comparison, DateTime<Utc>),
    LoggedByService(String),
    ActivityName(String),
    /// Comparisons joined by `or`, in parentheses.
    AnyOf(Vec<Clause>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Comparison {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

/// A lexical piece of a filter: a bare word, a quoted string (quotes removed, `''` undone) or
/// a parenthesis.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Word(text) | Token::Quoted(text) => write!(f, "'{text}'"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
        }
    }
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, QueryError> {
        let invalid = |reason: String| QueryError::Filter(reason);
        let mut tokens = tokenize(text).map_err(invalid)?.into_iter().peekable();
        let mut clauses = Vec::new();
        loop {
            let clause = if tokens.next_if_eq(&Token::Open).is_some() {
                let mut any = vec![comparison(&mut tokens).map_err(invalid)?];
                loop {
                    match tokens.next() {
                        Some(Token::Close) => break,
                        Some(Token::Word(word)) if word.eq_ignore_ascii_case("or") => {
                            any.push(comparison(&mut tokens).map_err(invalid)?);
                        }
                        _ => {
                            return Err(invalid("expected 'or' or ')' in parentheses".to_owned()));
                        }
                    }
                }
                Clause::AnyOf(any)
            } else {
                comparison(&mut tokens).map_err(invalid)?
            };
            clauses.push(clause);
            match tokens.next() {
                None => return Ok(Filter { clauses }),
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("and") => {}
                Some(Token::Word(word)) if word.eq_ignore_ascii_case("or") => {
                    return Err(invalid(
                        "'or' joins clauses only in parentheses (so that 'and' binds as OData binds it)"
                            .to_owned(),
                    ));
                }
                Some(other) => {
                    return Err(invalid(format!("expected 'and' or the end, found {other}")));
                }
            }
        }
    }

    /// Whether the filter joins clauses with `or` anywhere.
    pub fn has_or(&self) -> bool {
        self.clauses
            .iter()
            .any(|clause| matches!(clause, Clause::AnyOf(any) if any.len() > 1))
    }

    /// Whether a record passes; a record without a (parseable) time, service or activity
    /// fails any clause on it.
    pub fn matches(&self, record: Filtered<'_>) -> bool {
        self.clauses.iter().all(|clause| clause.matches(record))
    }
}

/// One comparison: a property, an operator and a value.
fn comparison(tokens: &mut impl Iterator<Item = Token>) -> Result<Clause, String> {
    let property = match tokens.next() {
        Some(Token::Word(word)) => word,
        Some(other) => return Err(format!("expected a property name, found {other}")),
        None => return Err("expected a comparison, found the end".to_owned()),
    };
    let operator = match tokens.next() {
        Some(Token::Word(word)) => word,
        _ => return Err(format!("expected an operator after '{property}'")),
    };
    let value = tokens
        .next()
        .ok_or_else(|| format!("expected a value after '{operator}'"))?;
    Clause::parse(&property, &operator, value)
}

impl Clause {
    fn matches(&self, record: Filtered<'_>) -> bool {
        match self {
            Clause::ActivityTime(comparison, bound) => {
                record.time.is_some_and(|time| match comparison {
                    Comparison::Eq => time == *bound,
                    Comparison::Ge => time >= *bound,
                    Comparison::Gt => time > *bound,
                    Comparison::Le => time <= *bound,
                    Comparison::Lt => time < *bound,
                })
            }
            Clause::LoggedByService(expected) => record.service == Some(expected.as_str()),
            Clause::ActivityName(expected) => record.activity == Some(expected.as_str()),
            Clause::AnyOf(any) => any.iter().any(|clause| clause.matches(record)),
        }
    }

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
        let text_clause: fn(String) -> Clause = if property.eq_ignore_ascii_case("loggedByService")
        {
            Clause::LoggedByService
        } else if property.eq_ignore_ascii_case("activityDisplayName") {
            Clause::ActivityName
        } else {
            return Err(format!("filtering on '{property}' is not supported"));
        };
        if !operator.eq_ignore_ascii_case("eq") {
            return Err(format!(
                "operator '{operator}' is not supported on {property}"
            ));
        }
        let Token::Quoted(text) = value else {
            return Err(format!("{property} takes a quoted string"));
        };
        Ok(text_clause(text))
    }
}

/// Splits a filter into words, quoted strings and parentheses.
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
            chars.next();
            tokens.push(if next == '(' {
                Token::Open
            } else {
                Token::Close
            });
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

    /// Whether a record of this time and service (and no activity) passes.
    fn passes(filter: &Filter, time: Option<DateTime<Utc>>, service: Option<&str>) -> bool {
        filter.matches(Filtered {
            time,
            service,
            activity: None,
        })
    }

    #[test]
    fn the_fetchers_filter_parses_and_matches() {
        let filter = Filter::parse(
            "loggedByService eq 'Self-service Password Management' and activityDateTime ge \
             2026-09-20T00:00:00Z and activityDateTime le 2026-11-05T00:00:00.1234567+00:00",
        )
        .unwrap();
        let sspr = Some("Self-service Password Management");
        assert!(passes(&filter, at("2026-09-20T00:00:00Z"), sspr));
        assert!(passes(&filter, at("2026-11-05T00:00:00.1234567Z"), sspr));
        assert!(!passes(&filter, at("2026-11-05T00:00:00.1234568Z"), sspr));
        assert!(!passes(&filter, at("2026-09-19T23:59:59.9Z"), sspr));
        assert!(!passes(
            &filter,
            at("2026-10-01T00:00:00Z"),
            Some("Core Directory")
        ));
        assert!(!passes(&filter, None, sspr));
    }

    #[test]
    fn services_joined_by_or_and_an_activity_name() {
        let both = Filter::parse(
            "(loggedByService eq 'Self-service Password Management' OR loggedByService eq \
             'Authentication Methods') and activityDateTime ge 2026-10-01T00:00:00Z",
        )
        .unwrap();
        assert!(both.has_or());
        let time = at("2026-10-02T00:00:00Z");
        assert!(passes(&both, time, Some("Authentication Methods")));
        assert!(passes(
            &both,
            time,
            Some("Self-service Password Management")
        ));
        assert!(!passes(&both, time, Some("Core Directory")));
        assert!(!passes(
            &both,
            at("2026-09-30T00:00:00Z"),
            Some("Authentication Methods")
        ));
        let resets = Filter::parse(
            "loggedByService eq 'Core Directory' and activityDisplayName eq 'Reset user password'",
        )
        .unwrap();
        assert!(!resets.has_or());
        let record = |activity| Filtered {
            time,
            service: Some("Core Directory"),
            activity,
        };
        assert!(resets.matches(record(Some("Reset user password"))));
        assert!(!resets.matches(record(Some("Update user"))));
        assert!(!resets.matches(record(None)));
    }

    #[test]
    fn strict_comparisons_quotes_and_case() {
        let filter = Filter::parse(
            "ActivityDateTime GT 2026-10-01T00:00:00+02:00 and activityDateTime lt \
             2026-10-02T00:00:00Z and loggedByService eq 'O''Brien''s service'",
        )
        .unwrap();
        let service = Some("O'Brien's service");
        assert!(!passes(&filter, at("2026-09-30T22:00:00Z"), service));
        assert!(passes(&filter, at("2026-09-30T22:00:00.001Z"), service));
        assert!(!passes(&filter, at("2026-10-02T00:00:00Z"), service));
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
                "only in parentheses",
            ),
            (
                "(loggedByService eq 'a' and loggedByService eq 'b')",
                "expected 'or' or ')'",
            ),
            ("(loggedByService eq 'a' or", "expected a comparison"),
            ("activityDisplayName ge 'a'", "operator 'ge'"),
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
