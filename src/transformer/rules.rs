//! Channel rules: an ordered TOML list mapping client types (and user agents) to channels.
//!
//! Semantics, documented in `data/channels.toml` and the README: patterns are case-insensitive
//! substrings; the client type decides first (first rule with a matching `client_type` pattern);
//! only when no rule matches the client type is the user agent tried, in the same rule order;
//! what nothing matches is `unknown`. An optional `[reset_service]` section names who the
//! password reset service is when it initiates a Core Directory reset (see [`super::helpdesk`]).

use std::collections::HashMap;

use serde::Deserialize;

use super::helpdesk::ResetService;
use crate::model::{ADMIN_CHANNEL, UNKNOWN_CHANNEL};

/// The rules built into the binary (`data/channels.toml`).
pub const DEFAULT_RULES: &str = include_str!("../../data/channels.toml");

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RulesError(String);

#[derive(Deserialize)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    reset_service: Option<ResetServiceSpec>,
    /// Anything else: tolerated (a description, a version), but named in a warning.
    #[serde(flatten)]
    other: toml::Table,
}

#[derive(Deserialize)]
struct RuleSpec {
    channel: String,
    #[serde(default)]
    client_type: Vec<String>,
    #[serde(default)]
    user_agent: Vec<String>,
    #[serde(flatten)]
    other: toml::Table,
}

/// `[reset_service]`: replaces the built-in list as a whole.
#[derive(Deserialize)]
struct ResetServiceSpec {
    #[serde(default)]
    apps: Vec<String>,
    #[serde(default)]
    upn_prefixes: Vec<String>,
    #[serde(flatten)]
    other: toml::Table,
}

#[derive(Debug, Clone)]
struct Rule {
    channel: String,
    client_type: Vec<String>,
    user_agent: Vec<String>,
}

/// Validated rules, patterns lowercased.
#[derive(Debug, Clone)]
pub struct ChannelRules {
    rules: Vec<Rule>,
    /// Keys the file has that rules do not use (a misspelt key shows up here).
    ignored: Vec<String>,
    reset_service: ResetService,
}

impl ChannelRules {
    /// The built-in rules.
    pub fn builtin() -> Self {
        Self::from_toml(DEFAULT_RULES).expect("the built-in rules are valid (checked by a test)")
    }

    /// Parses and validates a rules file.
    pub fn from_toml(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(text)
            .map_err(|err| RulesError(err.to_string().trim_end().to_owned()))?;
        if file.rule.is_empty() {
            return Err(RulesError(
                "no [[rule]] in the file: every attempt would be `unknown`".into(),
            ));
        }
        let mut rules = Vec::with_capacity(file.rule.len());
        let mut ignored: Vec<String> = file.other.keys().map(|key| format!("`{key}`")).collect();
        for (index, spec) in file.rule.into_iter().enumerate() {
            let position = index + 1;
            ignored.extend(
                spec.other
                    .keys()
                    .map(|key| format!("`{key}` in rule {position}")),
            );
            let channel = spec.channel.trim().to_owned();
            if channel.is_empty() {
                return Err(RulesError(format!("rule {position}: `channel` is empty")));
            }
            if channel.eq_ignore_ascii_case(ADMIN_CHANNEL) {
                return Err(RulesError(format!(
                    "rule {position}: channel `{ADMIN_CHANNEL}` is reserved for helpdesk resets (`Reset password (by admin)`)"
                )));
            }
            if spec.client_type.is_empty() && spec.user_agent.is_empty() {
                return Err(RulesError(format!(
                    "rule {position} (`{channel}`): it has no `client_type` or `user_agent` pattern"
                )));
            }
            let lower = |patterns: Vec<String>, field: &str| -> Result<Vec<String>, RulesError> {
                patterns
                    .into_iter()
                    .map(|pattern| match pattern.trim() {
                        "" => Err(RulesError(format!("rule {position} (`{channel}`): an empty `{field}` pattern would match everything"))),
                        text => Ok(text.to_lowercase()),
                    })
                    .collect()
            };
            rules.push(Rule {
                client_type: lower(spec.client_type, "client_type")?,
                user_agent: lower(spec.user_agent, "user_agent")?,
                channel,
            });
        }
        let reset_service = match file.reset_service {
            None => ResetService::default(),
            Some(spec) => {
                ignored.extend(
                    spec.other
                        .keys()
                        .map(|key| format!("`{key}` in [reset_service]")),
                );
                if spec
                    .apps
                    .iter()
                    .chain(&spec.upn_prefixes)
                    .any(|text| text.trim().is_empty())
                {
                    return Err(RulesError(
                        "[reset_service]: an empty name or prefix would match every initiator"
                            .into(),
                    ));
                }
                ResetService::new(spec.apps, spec.upn_prefixes)
            }
        };
        Ok(ChannelRules {
            rules,
            ignored,
            reset_service,
        })
    }

    /// Who the password reset service is (`[reset_service]`, else the built-in list).
    pub fn reset_service(&self) -> &ResetService {
        &self.reset_service
    }

    /// The keys of the file that rules do not use (only `channel`, `client_type` and
    /// `user_agent` mean something), for a warning.
    pub fn ignored_keys(&self) -> &[String] {
        &self.ignored
    }

    /// The rule that names the channel of an attempt with this client type and user agent: its
    /// position (from 1), channel, the field that matched and the pattern; `None` for `unknown`.
    pub fn matching_rule(
        &self,
        client_type: Option<&str>,
        user_agent: Option<&str>,
    ) -> Option<(usize, &str, &'static str, &str)> {
        let find = |text: Option<&str>, field: &'static str, patterns: fn(&Rule) -> &[String]| {
            let text = text?.to_lowercase();
            self.rules.iter().enumerate().find_map(|(index, rule)| {
                patterns(rule)
                    .iter()
                    .find(|pattern| text.contains(pattern.as_str()))
                    .map(|pattern| (index + 1, rule.channel.as_str(), field, pattern.as_str()))
            })
        };
        find(client_type, "client_type", |rule| &rule.client_type)
            .or_else(|| find(user_agent, "user_agent", |rule| &rule.user_agent))
    }

    /// The rules as a rules file (patterns lowercased, as they are compared), each rule under
    /// its comment from `comments` (by position, if any), then the `[reset_service]` section.
    pub fn to_toml(&self, comments: &[Option<String>]) -> String {
        // A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
        let quoted = |text: &str| {
            serde_json::to_string(text)
                .unwrap_or_default()
                .replace('\u{7f}', "\\u007F")
        };
        let list = |patterns: &[String]| {
            let items: Vec<String> = patterns.iter().map(|pattern| quoted(pattern)).collect();
            format!("[{}]", items.join(", "))
        };
        let mut text = String::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if let Some(Some(comment)) = comments.get(index) {
                for line in comment.lines() {
                    text.push_str(&format!("# {line}\n"));
                }
            }
            text.push_str(&format!("[[rule]]\nchannel = {}\n", quoted(&rule.channel)));
            if !rule.client_type.is_empty() {
                text.push_str(&format!("client_type = {}\n", list(&rule.client_type)));
            }
            if !rule.user_agent.is_empty() {
                text.push_str(&format!("user_agent = {}\n", list(&rule.user_agent)));
            }
            text.push('\n');
        }
        let service = &self.reset_service;
        text.push_str(&format!(
            "# Who the password reset service is when it initiates a Core Directory `Reset user password`:\n\
             # its rows are side effects of self-service resets, never helpdesk resets.\n\
             [reset_service]\napps = {}\nupn_prefixes = {}\n",
            list(service.apps()),
            list(service.upn_prefixes())
        ));
        text
    }

    /// These rules with `first` before them.
    pub fn after(&self, first: Vec<(String, Vec<String>, Vec<String>)>) -> ChannelRules {
        let mut rules: Vec<Rule> = first
            .into_iter()
            .map(|(channel, client_type, user_agent)| Rule {
                channel,
                client_type: client_type
                    .iter()
                    .map(|p| p.trim().to_lowercase())
                    .collect(),
                user_agent: user_agent.iter().map(|p| p.trim().to_lowercase()).collect(),
            })
            .collect();
        rules.extend(self.rules.iter().cloned());
        ChannelRules {
            rules,
            ignored: Vec::new(),
            reset_service: self.reset_service.clone(),
        }
    }

    /// How many rules there are.
    #[cfg(test)]
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The channel of an attempt with this client type and user agent.
    pub fn classify(&self, client_type: Option<&str>, user_agent: Option<&str>) -> &str {
        let rule = client_type
            .and_then(|text| self.first_match(text, |rule| &rule.client_type))
            .or_else(|| {
                user_agent.and_then(|text| self.first_match(text, |rule| &rule.user_agent))
            });
        self.channel_of(rule)
    }

    /// A classifier that remembers the values it has seen.
    pub fn classifier(&self) -> Classifier<'_> {
        Classifier {
            rules: self,
            client_types: HashMap::default(),
            user_agents: HashMap::default(),
        }
    }

    /// The index of the first rule with a pattern of `patterns` in `text`.
    fn first_match(&self, text: &str, patterns: fn(&Rule) -> &[String]) -> Option<usize> {
        let text = text.to_lowercase();
        self.rules.iter().position(|rule| {
            patterns(rule)
                .iter()
                .any(|pattern| text.contains(pattern.as_str()))
        })
    }

    /// The channel of the rule at `index`; `unknown` for none.
    fn channel_of(&self, index: Option<usize>) -> &str {
        index.map_or(UNKNOWN_CHANNEL, |index| self.rules[index].channel.as_str())
    }

    /// Every channel an attempt can get, in report order: the rules' channels in rule order,
    /// then `unknown`, then `admin`.
    pub fn channels(&self) -> Vec<&str> {
        let mut channels: Vec<&str> = Vec::new();
        for name in self
            .rules
            .iter()
            .map(|rule| rule.channel.as_str())
            .chain([UNKNOWN_CHANNEL, ADMIN_CHANNEL])
        {
            if !channels.contains(&name) {
                channels.push(name);
            }
        }
        channels
    }
}

/// [`ChannelRules::classify`] with a memory: attempts share a few distinct client types and
/// user agents, and matching one lowercases it. The memory is bounded, so that input with ever
/// new values costs the plain matching and no more.
pub struct Classifier<'r> {
    rules: &'r ChannelRules,
    client_types: Memo,
    user_agents: Memo,
}

/// Values seen, with the index of the first rule they matched.
type Memo = HashMap<Box<str>, Option<usize>, foldhash::fast::RandomState>;

impl<'r> Classifier<'r> {
    /// Values each memory keeps at most.
    const REMEMBERED: usize = 4096;

    pub fn classify(&mut self, client_type: Option<&str>, user_agent: Option<&str>) -> &'r str {
        let rules = self.rules;
        let matched = |memo: &mut Memo, text: Option<&str>, patterns: fn(&Rule) -> &[String]| {
            let text = text?;
            if let Some(&known) = memo.get(text) {
                return known;
            }
            let found = rules.first_match(text, patterns);
            if memo.len() < Self::REMEMBERED {
                memo.insert(text.into(), found);
            }
            found
        };
        let rule = matched(&mut self.client_types, client_type, |rule| {
            &rule.client_type
        })
        .or_else(|| matched(&mut self.user_agents, user_agent, |rule| &rule.user_agent));
        rules.channel_of(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
        [[rule]]
        channel = "login_screen"
        client_type = ["logon", "Credential Provider"]
        [[rule]]
        channel = "web"
        client_type = ["web", "portal"]
        user_agent = ["mozilla"]
    "#;

    #[test]
    fn first_matching_rule_wins_case_insensitively() {
        let rules = ChannelRules::from_toml(RULES).unwrap();
        let cases = [
            (Some("WinLogon"), None, "login_screen"),
            (Some("Windows credential provider"), None, "login_screen"),
            (Some("WebLogon"), None, "login_screen"),
            (Some("Web"), None, "web"),
            (Some("SSPR Portal"), None, "web"),
            (Some("Kiosk"), None, "unknown"),
            (None, None, "unknown"),
            (None, Some("Mozilla/5.0 (Windows NT 10.0)"), "web"),
            (None, Some("python-requests/2.31"), "unknown"),
            // The client type decides before the user agent is looked at.
            (Some("Logon"), Some("Mozilla/5.0"), "login_screen"),
            (Some("Kiosk"), Some("Mozilla/5.0"), "web"),
        ];
        let mut classifier = rules.classifier();
        // Twice: the second time from the classifier's memory.
        for (client_type, user_agent, want) in cases.iter().chain(&cases) {
            assert_eq!(
                rules.classify(*client_type, *user_agent),
                *want,
                "{client_type:?} {user_agent:?}"
            );
            assert_eq!(classifier.classify(*client_type, *user_agent), *want);
        }
    }

    #[test]
    fn channels_come_in_rule_order_then_unknown_and_admin() {
        let rules = ChannelRules::from_toml(RULES).unwrap();
        assert_eq!(
            rules.channels(),
            ["login_screen", "web", "unknown", "admin"]
        );
    }

    #[test]
    fn builtin_rules_are_valid() {
        let rules = ChannelRules::builtin();
        assert_eq!(rules.classify(Some("Logon"), None), "login_screen");
        assert_eq!(rules.classify(Some("Web"), None), "web");
        assert_eq!(rules.classify(Some("MobileApp"), None), "other");
    }

    #[test]
    fn keys_rules_do_not_use_are_named_not_fatal() {
        let text = "version = 2\n[[rule]]\nchannel = \"web\"\nclient_type = [\"web\"]\nnote = \"guess\"\nuser_agnet = [\"x\"]\n";
        let rules = ChannelRules::from_toml(text).unwrap();
        assert_eq!(
            rules.ignored_keys(),
            ["`version`", "`note` in rule 1", "`user_agnet` in rule 1"]
        );
        assert_eq!(rules.classify(Some("Web"), None), "web");
        assert!(ChannelRules::builtin().ignored_keys().is_empty());
    }

    #[test]
    fn a_reset_service_section_replaces_the_built_in_list() {
        assert_eq!(
            ChannelRules::from_toml(RULES).unwrap().reset_service(),
            &ResetService::default()
        );
        let text = format!(
            "{RULES}\n[reset_service]\napps = [\"Our Sync\"]\nupn_prefixes = [\"svc-\"]\nappz = []\n"
        );
        let rules = ChannelRules::from_toml(&text).unwrap();
        assert!(rules.reset_service().initiated("our sync"));
        assert!(
            !rules
                .reset_service()
                .initiated("Microsoft password reset service")
        );
        assert_eq!(rules.ignored_keys(), ["`appz` in [reset_service]"]);
        let empty = format!("{RULES}\n[reset_service]\nupn_prefixes = [\" \"]\n");
        assert!(ChannelRules::from_toml(&empty).is_err());
    }

    #[test]
    fn invalid_rules_are_explained() {
        let cases = [
            ("", "no [[rule]]"),
            (
                "[[rule]]\nchannel = \"x\"\n",
                "no `client_type` or `user_agent`",
            ),
            (
                "[[rule]]\nchannel = \"admin\"\nclient_type = [\"a\"]\n",
                "reserved",
            ),
            (
                "[[rule]]\nchannel = \"x\"\nclient_type = [\" \"]\n",
                "empty `client_type` pattern",
            ),
            (
                "[[rule]]\nchannel = \"x\"\nclienttype = [\"a\"]\n",
                "no `client_type` or `user_agent`",
            ),
            ("[[rule]]\nchannel = 5\n", "invalid type"),
            ("[[rule]\n", "TOML"),
        ];
        for (text, want) in cases {
            let err = ChannelRules::from_toml(text).unwrap_err().to_string();
            assert!(
                err.contains(want) || (want == "TOML" && !err.is_empty()),
                "{text:?}: {err}"
            );
        }
    }
}
