//! Binding argv to a cmdlet's parameter table with PowerShell's rules; no I/O.

use super::dates::parse_in_current_culture;
use super::errors;
use super::table::{secret_env, CmdletDef, PType, ParamDef, COMMON, SHOULD_PROCESS};
use crate::error::CsResult;
use crate::model::CertType;
use chrono::{DateTime, Utc};

/// A bound, converted value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Switch(bool),
    Bool(bool),
    Str(String),
    /// A nullable parameter given with nothing after it (`-ComputerFqdn $null`).
    Null,
    Int(i32),
    List(Vec<String>),
    Uses(Vec<CertType>),
    /// An enum value in canonical casing.
    Enum(&'static str),
    Date(DateTime<Utc>),
}

/// PowerShell's common parameters that cscert honours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Common {
    pub verbose: bool,
    pub debug: bool,
    pub what_if: bool,
    /// `Some(false)` for `-Confirm:$false`.
    pub confirm: Option<bool>,
    pub error_action: Option<&'static str>,
    pub warning_action: Option<&'static str>,
    /// [cscert] `-OutputFormat Json|Text`.
    pub output_format: Option<&'static str>,
}

/// The result of binding: the parameter set and the values, in the order they were given.
#[derive(Debug, Clone)]
pub struct Bound {
    pub cmdlet: &'static CmdletDef,
    pub set: &'static str,
    pub values: Vec<(&'static str, Value)>,
    pub common: Common,
}

impl Bound {
    /// The bound values as one JSON object (`-Debug` / `CSCERT_DEBUG_BINDING` trace).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value as J};
        let mut m = Map::new();
        for (n, v) in &self.values {
            // A password never reaches a log: the trace shows that it was given, not what it is.
            let secret = self
                .cmdlet
                .param(n)
                .is_some_and(|p| p.ty == PType::Password);
            let j = match v {
                Value::Str(_) if secret => J::String(SECRET_MASK.into()),
                Value::Switch(b) | Value::Bool(b) => J::Bool(*b),
                Value::Str(s) => J::String(s.clone()),
                Value::Null => J::Null,
                Value::Int(i) => json!(i),
                Value::List(l) => json!(l),
                Value::Uses(u) => json!(u.iter().map(|t| t.name()).collect::<Vec<_>>()),
                Value::Enum(e) => J::String(e.to_string()),
                Value::Date(d) => J::String(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            };
            m.insert(n.to_string(), j);
        }
        let c = &self.common;
        json!({
            "Cmdlet": self.cmdlet.name,
            "ParameterSet": self.set,
            "Parameters": m,
            "Common": {
                "Verbose": c.verbose, "Debug": c.debug, "WhatIf": c.what_if, "Confirm": c.confirm,
                "ErrorAction": c.error_action, "WarningAction": c.warning_action,
            },
        })
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A switch's state (absent = off).
    pub fn switch(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Switch(true)))
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i32> {
        match self.get(name) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::List(l)) => l.clone(),
            _ => Vec::new(),
        }
    }

    pub fn uses(&self, name: &str) -> Vec<CertType> {
        match self.get(name) {
            Some(Value::Uses(u)) => u.clone(),
            _ => Vec::new(),
        }
    }

    pub fn enum_value(&self, name: &str) -> Option<&'static str> {
        match self.get(name) {
            Some(Value::Enum(e)) => Some(e),
            _ => None,
        }
    }

    pub fn date(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.get(name) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }
}

/// The characters PowerShell accepts as the dash of a parameter: `-` and the en dash, em dash and
/// horizontal bar that Microsoft's documentation pages print (`–Type`), so scripts copied from
/// them keep working.
const DASHES: [char; 4] = ['-', '\u{2013}', '\u{2014}', '\u{2015}'];

/// `-Name` or `-Name:value`: a dash followed by a letter (a negative number is a value).
pub fn is_parameter_token(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|d| DASHES.contains(&d)) && c.next().is_some_and(|c| c.is_alphabetic())
}

enum Resolved {
    Declared(&'static ParamDef),
    Common(&'static ParamDef),
}

impl Resolved {
    fn def(&self) -> &'static ParamDef {
        match self {
            Resolved::Declared(p) | Resolved::Common(p) => p,
        }
    }
}

/// Resolves a parameter name: exact name or alias first, then unambiguous prefix, where a single
/// declared parameter beats common ones (`-D` is `-DomainName`, not `-Debug`).
fn resolve(cmdlet: &'static CmdletDef, given: &str) -> CsResult<Resolved> {
    let commons = COMMON.iter().chain(if cmdlet.should_process {
        SHOULD_PROCESS
    } else {
        &[]
    });
    let all = cmdlet
        .params
        .iter()
        .map(Resolved::Declared)
        .chain(commons.map(Resolved::Common));
    let names = |p: &'static ParamDef| std::iter::once(p.name).chain(p.aliases.iter().copied());
    let mut matches: Vec<Resolved> = Vec::new();
    for r in all {
        let def = r.def();
        if names(def).any(|n| n.eq_ignore_ascii_case(given)) {
            return Ok(r);
        }
        let lower = given.to_ascii_lowercase();
        if names(def).any(|n| n.to_ascii_lowercase().starts_with(&lower)) {
            matches.push(r);
        }
    }
    match matches.len() {
        0 => Err(errors::named_not_found(cmdlet, given)),
        1 => Ok(matches.pop().unwrap()),
        _ => {
            let declared: Vec<_> = matches
                .iter()
                .filter(|r| matches!(r, Resolved::Declared(_)))
                .collect();
            if declared.len() == 1 {
                return Ok(Resolved::Declared(declared[0].def()));
            }
            let names: Vec<&str> = matches.iter().map(|r| r.def().name).collect();
            Err(errors::ambiguous(cmdlet, given, &names))
        }
    }
}

/// Splits a list value on commas, trims blanks and strips one pair of matching quotes per item
/// (pwsh 7.3+ passes `"a","b"` with the quotes inside the element).
fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| strip_quotes(s.trim()).trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn strip_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    let t = t.strip_prefix('$').unwrap_or(t);
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        // "Boolean parameters accept only Boolean values and numbers": any number, non-zero = true.
        // `NaN` and `Infinity` parse as f64 but are words, not numbers, to PowerShell.
        t.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| n != 0.0)
    }
}

struct State {
    values: Vec<(&'static str, Value)>,
    common: Common,
    common_seen: Vec<&'static str>,
}

impl State {
    fn bound(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == name)
    }

    /// Given for set resolution and mandatory checks: a switch turned off (`-New:$false`, e.g.
    /// from a splatted hashtable) selects nothing, so it can never choose a set or satisfy one.
    fn given(&self, name: &str) -> bool {
        self.values
            .iter()
            .any(|(n, v)| *n == name && *v != Value::Switch(false))
    }
}

/// Binds argv (the elements after the cmdlet name) to `cmdlet`, secrets not on argv from the
/// process environment.
pub fn bind(cmdlet: &'static CmdletDef, args: &[String]) -> CsResult<Bound> {
    bind_with(cmdlet, args, &|k| std::env::var(k).ok())
}

/// [`bind`] with the environment given: `env(name)` is the value of a secret's variable
/// (`CSCERT_PASSWORD`, ...), as `cli::Settings` read it once.
pub fn bind_with(
    cmdlet: &'static CmdletDef,
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> CsResult<Bound> {
    let mut st = State {
        values: Vec::new(),
        common: Common::default(),
        common_seen: Vec::new(),
    };
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let tok = &args[i];
        i += 1;
        if tok == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        if !is_parameter_token(tok) {
            positional.push(tok.clone());
            continue;
        }
        let body = &tok[tok.chars().next().map_or(1, char::len_utf8)..];
        let (name, inline) = match body.find(':') {
            Some(c) => (&body[..c], Some(&body[c + 1..])),
            None => (body, None),
        };
        let resolved = resolve(cmdlet, name)?;
        let def = resolved.def();
        // `-Name:` with nothing after the colon takes the next element (`-Output: C:\x.txt`).
        let take_next = |i: &mut usize| -> Option<String> {
            if *i < args.len() && !is_parameter_token(&args[*i]) && args[*i] != "--" {
                *i += 1;
                Some(args[*i - 1].clone())
            } else {
                None
            }
        };
        let raw: Option<String> = match (def.ty, inline) {
            (PType::Switch, None) => None,
            (_, Some(v)) if !v.is_empty() => Some(v.to_string()),
            (PType::Switch, Some(_)) => take_next(&mut i),
            (_, _) => take_next(&mut i),
        };
        let value = match (def.ty, raw) {
            (PType::Switch, None) if inline.is_none() => Value::Switch(true),
            // `-Name:` with no value after it is what pwsh itself passes for an empty or $null
            // value (`-Output:''`; `@{New=$null}` splatted under Legacy passing, checked with
            // real pwsh 7.6 in tests/pwsh): a switch turned off, an empty string.
            (PType::Switch, None) => Value::Switch(false),
            // An empty password protects nothing: refused in every form (issue 10).
            (PType::Password, None) if inline == Some("") => {
                return Err(errors::empty_argument(cmdlet, def))
            }
            (PType::Str, None) if inline == Some("") => Value::Str(String::new()),
            (PType::Switch, Some(r)) => match parse_bool(&r) {
                Some(b) => Value::Switch(b),
                None => return Err(errors::bad_bool(cmdlet, def)),
            },
            (PType::NullableStr, None) => Value::Null,
            (_, None) => return Err(errors::missing_argument(cmdlet, def)),
            (PType::StrList | PType::CertTypes, Some(first)) => {
                // Join elements while one ends with ',' or the next starts with ',' (rows 3, 3b),
                // then take further plain elements as more values (row 6 and legacy splatting).
                let mut joined = first;
                while i < args.len()
                    && !is_parameter_token(&args[i])
                    && args[i] != "--"
                    && (joined.trim_end().ends_with(',') || args[i].trim_start().starts_with(','))
                {
                    joined.push_str(&args[i]);
                    i += 1;
                }
                let mut items = split_list(&joined);
                while i < args.len() && !is_parameter_token(&args[i]) && args[i] != "--" {
                    let mut more = args[i].clone();
                    i += 1;
                    while i < args.len()
                        && !is_parameter_token(&args[i])
                        && args[i] != "--"
                        && (more.trim_end().ends_with(',') || args[i].trim_start().starts_with(','))
                    {
                        more.push_str(&args[i]);
                        i += 1;
                    }
                    items.extend(split_list(&more));
                }
                convert_list(cmdlet, def, items)?
            }
            (_, Some(r)) => convert_scalar(cmdlet, def, r)?,
        };
        match resolved {
            Resolved::Common(def) => {
                if st.common_seen.contains(&def.name) {
                    return Err(errors::already_bound(cmdlet, def));
                }
                st.common_seen.push(def.name);
                apply_common(&mut st.common, def.name, value);
            }
            Resolved::Declared(def) => {
                if let Some(slot) = st.values.iter_mut().find(|(n, _)| *n == def.name) {
                    // Repeated `-Name:v` occurrences append for list parameters (hashtable splatting).
                    match (&mut slot.1, value) {
                        (Value::List(a), Value::List(b)) => a.extend(b),
                        (Value::Uses(a), Value::Uses(b)) => a.extend(b),
                        _ => return Err(errors::already_bound(cmdlet, def)),
                    }
                } else {
                    st.values.push((def.name, value));
                }
            }
        }
    }

    bind_positional(cmdlet, &mut st, positional)?;
    let set = resolve_set(cmdlet, &st)?;
    // A secret not given on argv may come from its environment variable (CSCERT_PASSWORD,
    // CSCERT_CA_PASSWORD): the pwsh module passes SecureStrings there, never on a command line.
    for p in cmdlet.params.iter() {
        if p.ty == PType::Password && p.in_set(set) && !st.bound(p.name) {
            if let Some(v) = env(&secret_env(p.name)).filter(|v| !v.is_empty()) {
                st.values.push((p.name, Value::Str(v)));
            }
        }
    }
    let missing: Vec<&str> = cmdlet
        .params
        .iter()
        .filter(|p| p.mandatory_in(set) && !st.given(p.name))
        .map(|p| p.name)
        .collect();
    if !missing.is_empty() {
        return Err(errors::missing_mandatory(cmdlet, &missing));
    }
    // Lists keep first occurrences only: `-Type Default,default` is one use.
    for (_, v) in st.values.iter_mut() {
        if let Value::Uses(u) = v {
            let mut seen = Vec::new();
            u.retain(|t| {
                let new = !seen.contains(t);
                seen.push(*t);
                new
            });
        }
    }
    Ok(Bound {
        cmdlet,
        set,
        values: st.values,
        common: st.common,
    })
}

fn apply_common(c: &mut Common, name: &str, v: Value) {
    match (name, v) {
        ("Verbose", Value::Switch(b)) => c.verbose = b,
        ("Debug", Value::Switch(b)) => c.debug = b,
        ("WhatIf", Value::Switch(b)) => c.what_if = b,
        ("Confirm", Value::Switch(b)) => c.confirm = Some(b),
        ("ErrorAction", Value::Enum(e)) => c.error_action = Some(e),
        ("WarningAction", Value::Enum(e)) => c.warning_action = Some(e),
        ("OutputFormat", Value::Enum(e)) => c.output_format = Some(e),
        // The rest (variables, buffers) only mean something inside pwsh: accepted and ignored.
        _ => {}
    }
}

fn bind_positional(cmdlet: &'static CmdletDef, st: &mut State, args: Vec<String>) -> CsResult<()> {
    let mut slots: Vec<&'static ParamDef> = cmdlet
        .params
        .iter()
        .filter(|p| p.position.is_some())
        .collect();
    slots.sort_by_key(|p| p.position);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(def) = slots.iter().copied().find(|p| !st.bound(p.name)) else {
            return Err(errors::positional_not_found(cmdlet, &arg));
        };
        let value = if def.ty.is_list() {
            let mut items = split_list(&arg);
            // A positional list also takes the following positional elements.
            for more in args.by_ref() {
                items.extend(split_list(&more));
            }
            convert_list(cmdlet, def, items)?
        } else {
            convert_scalar(cmdlet, def, arg)?
        };
        st.values.push((def.name, value));
    }
    Ok(())
}

fn resolve_set(cmdlet: &'static CmdletDef, st: &State) -> CsResult<&'static str> {
    let candidates: Vec<&'static str> = cmdlet
        .sets
        .iter()
        .copied()
        .filter(|set| {
            st.values
                .iter()
                .filter(|(_, v)| *v != Value::Switch(false))
                .all(|(n, _)| cmdlet.param(n).is_some_and(|p| p.in_set(set)))
        })
        .collect();
    if candidates.len() == 1 {
        return Ok(candidates[0]);
    }
    let satisfied: Vec<&'static str> = candidates
        .iter()
        .copied()
        .filter(|set| {
            cmdlet
                .params
                .iter()
                .filter(|p| p.mandatory_in(set))
                .all(|p| st.given(p.name))
        })
        .collect();
    if satisfied.len() == 1 {
        return Ok(satisfied[0]);
    }
    if let Some(d) = cmdlet.default_set {
        if candidates.contains(&d) {
            return Ok(d);
        }
    }
    Err(errors::ambiguous_set(cmdlet))
}

fn convert_list(
    cmdlet: &'static CmdletDef,
    def: &'static ParamDef,
    items: Vec<String>,
) -> CsResult<Value> {
    match def.ty {
        PType::CertTypes => {
            let mut uses = Vec::with_capacity(items.len());
            for it in items {
                match CertType::parse(&it) {
                    Some(t) => uses.push(t),
                    None => return Err(errors::bad_cert_type(cmdlet, def, &it)),
                }
            }
            if uses.is_empty() {
                return Err(errors::missing_argument(cmdlet, def));
            }
            Ok(Value::Uses(uses))
        }
        _ => Ok(Value::List(items)),
    }
}

fn convert_scalar(
    cmdlet: &'static CmdletDef,
    def: &'static ParamDef,
    raw: String,
) -> CsResult<Value> {
    Ok(match def.ty {
        PType::Bool => match parse_bool(&raw) {
            Some(b) => Value::Bool(b),
            None => return Err(errors::bad_bool(cmdlet, def)),
        },
        PType::Int => match raw.trim().parse::<i32>() {
            Ok(n) => Value::Int(n),
            Err(_) => return Err(errors::bad_int(cmdlet, def, &raw)),
        },
        PType::Enum(e) => match e.names.iter().find(|n| n.eq_ignore_ascii_case(raw.trim())) {
            Some(n) => Value::Enum(n),
            None => return Err(errors::bad_enum(cmdlet, def, e.dotnet, e.names, &raw)),
        },
        PType::DateTime => match parse_in_current_culture(&raw) {
            // .NET's DateTime ends with the year 9999 (and X.509 times with it).
            Ok(d) if (1..=9999).contains(&chrono::Datelike::year(&d)) => Value::Date(d),
            Ok(_) => {
                return Err(errors::bad_date(
                    cmdlet,
                    def,
                    &raw,
                    "(.NET dates end with the year 9999.)",
                ))
            }
            Err(hint) => match pwsh_datetime_text(&raw) {
                Some(d) => Value::Date(d),
                None => return Err(errors::bad_date(cmdlet, def, &raw, &hint)),
            },
        },
        PType::Password if raw == "System.Security.SecureString" => {
            return Err(errors::secure_string(cmdlet, def))
        }
        PType::Password if raw.is_empty() => return Err(errors::empty_argument(cmdlet, def)),
        PType::StrList | PType::CertTypes => return convert_list(cmdlet, def, split_list(&raw)),
        PType::Switch => unreachable!("switches are not bound from values"),
        PType::Str | PType::NullableStr | PType::Password => Value::Str(raw),
    })
}

/// pwsh hands a [datetime] to a native program as InvariantCulture text, `MM/dd/yyyy HH:mm:ss`,
/// whatever its own culture (real pwsh 7.6 under en-US, en-GB and th-TH: tests/pwsh). Where the
/// current culture cannot read a date (en-GB, de-DE, ko-KR: `07/22/2012 06:00:00`), that exact
/// form is such a [datetime]. A string the culture can read keeps the culture's meaning, as
/// PowerShell binds strings to a cmdlet's DateTime parameter.
fn pwsh_datetime_text(raw: &str) -> Option<DateTime<Utc>> {
    let b = raw.as_bytes();
    let shape = b"00/00/0000 00:00:00";
    let same = b.len() == shape.len()
        && b.iter().zip(shape).all(|(c, s)| match s {
            b'0' => c.is_ascii_digit(),
            _ => c == s,
        });
    if same {
        super::dates::parse_in(raw, &super::dates::INVARIANT)
    } else {
        None
    }
}

/// The mask shown instead of a secret parameter's value.
pub const SECRET_MASK: &str = "********";

/// argv with the value of every secret parameter (`-Password`, `-CaPassword`) masked, for
/// anything that records the command line (`-Report`). Tokens that do not resolve are kept.
pub fn mask_secrets(cmdlet: &'static CmdletDef, args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        let tok = &args[i];
        i += 1;
        if !is_parameter_token(tok) {
            out.push(tok.clone());
            continue;
        }
        let dash = tok.chars().next().map_or(1, char::len_utf8);
        let body = &tok[dash..];
        let (name, inline) = match body.find(':') {
            Some(c) => (&body[..c], Some(&body[c + 1..])),
            None => (body, None),
        };
        let secret = resolve(cmdlet, name).is_ok_and(|r| r.def().ty == PType::Password);
        if !secret {
            out.push(tok.clone());
            continue;
        }
        match inline {
            Some(v) if !v.is_empty() => out.push(format!("{}{name}:{SECRET_MASK}", &tok[..dash])),
            _ => {
                out.push(tok.clone());
                if i < args.len() && !is_parameter_token(&args[i]) {
                    out.push(SECRET_MASK.to_string());
                    i += 1;
                }
            }
        }
    }
    out
}

/// `bind()` in-process, without spawning the binary (tests/binder.rs checks the same rules
/// end to end, with the argv pwsh sends).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdlets::{
        export::DEF as EXPORT, get::DEF as GET, import::DEF as IMPORT, request::DEF as REQUEST,
        set::DEF as SET,
    };

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    /// Binds with an empty environment (no secret comes from outside).
    fn bind0(c: &'static CmdletDef, args: &[&str]) -> CsResult<Bound> {
        bind_with(c, &argv(args), &|_| None)
    }

    #[test]
    fn prefixes_aliases_and_colon_values() {
        let b = bind0(
            &SET,
            &[
                "-Thu",
                "AB",
                "-Ty:Default",
                "-EffectiveTime:2027-01-01",
                "-Roll",
            ],
        )
        .unwrap();
        assert_eq!(b.set, "Thumbprint");
        assert_eq!(b.str("Thumbprint"), Some("AB"));
        assert_eq!(b.uses("Type"), vec![CertType::Default]);
        assert!(b.date("EffectiveDate").is_some());
        assert!(b.switch("Roll"));
        // `-D` is -DomainName (a declared parameter beats -Debug), `-Output:` takes the next element.
        let b = bind0(
            &REQUEST,
            &[
                "-New",
                "-Type",
                "Default",
                "-D",
                "a.contoso.com",
                "-Output:",
                "x.req",
            ],
        )
        .unwrap();
        assert_eq!(b.list("DomainName"), vec!["a.contoso.com"]);
        assert_eq!(b.str("Output"), Some("x.req"));
        assert!(!b.common.debug);
    }

    #[test]
    fn comma_lists_in_the_forms_pwsh_passes() {
        for args in [
            &["-New", "-Type", "Default,WebServicesInternal"][..],
            &["-New", "-Type", "Default,", "WebServicesInternal"],
            &["-New", "-Type", "Default", ",WebServicesInternal"],
            &["-New", "-Type", "\"Default\",\"WebServicesInternal\""],
            &["-New", "-Type:Default", "-Type:WebServicesInternal"],
            &["-New", "-Type", "Default,default,WebServicesInternal"],
        ] {
            let b = bind0(&REQUEST, args).unwrap();
            assert_eq!(
                b.uses("Type"),
                vec![CertType::Default, CertType::WebServicesInternal],
                "{args:?}"
            );
        }
    }

    #[test]
    fn booleans_switches_and_enums_convert_as_powershell_does() {
        for (v, want) in [
            ("$true", true),
            ("False", false),
            ("1", true),
            ("0", false),
            ("-2.5", true),
        ] {
            let b = bind0(&IMPORT, &["-Path", "a.pfx", "-PrivateKeyExportable", v]).unwrap();
            assert_eq!(b.bool("PrivateKeyExportable"), Some(want), "{v}");
        }
        let e = bind0(&IMPORT, &["-Path", "a.pfx", "-PrivateKeyExportable", "NaN"]).unwrap_err();
        assert_eq!(e.error_id, "ParameterArgumentTransformationError");
        let b = bind0(&SET, &["-Thumbprint", "AB", "-Force:$false"]).unwrap();
        assert_eq!(b.get("Force"), Some(&Value::Switch(false)));
        let b = bind0(
            &EXPORT,
            &["-Thumbprint", "AB", "-Path", "x", "-Format", "pem"],
        )
        .unwrap();
        assert_eq!(b.enum_value("Format"), Some("Pem"));
        let e = bind0(
            &EXPORT,
            &["-Thumbprint", "AB", "-Path", "x", "-Format", "zip"],
        )
        .unwrap_err();
        assert_eq!(e.exit, crate::error::Exit::Binding);
    }

    #[test]
    fn parameter_sets_positions_and_common_parameters() {
        let b = bind0(
            &REQUEST,
            &["-List", "-RequestId", "7", "-vb", "-ea", "silentlycontinue"],
        )
        .unwrap();
        assert_eq!(b.set, "List");
        assert_eq!(b.int("RequestId"), Some(7));
        assert!(b.common.verbose);
        assert_eq!(b.common.error_action, Some("SilentlyContinue"));
        // Import's -Identity is at position 0 and selects the Cms set.
        let b = bind0(
            &IMPORT,
            &["Global", "-Path", "a.pfx", "-Type", "OAuthTokenIssuer"],
        )
        .unwrap();
        assert_eq!(b.set, "Cms");
        assert_eq!(b.str("Identity"), Some("Global"));
        let b = bind0(&GET, &["global"]).unwrap();
        assert_eq!(b.str("Identity"), Some("global"));
        let b = bind0(&SET, &["-Thumbprint", "AB", "-WhatIf", "-Confirm:$false"]).unwrap();
        assert!(b.common.what_if);
        assert_eq!(b.common.confirm, Some(false));
    }

    #[test]
    fn binding_errors_carry_powershell_ids() {
        let id = |c, a: &[&str]| bind0(c, a).unwrap_err().error_id;
        assert_eq!(id(&REQUEST, &["-New"]), "MissingMandatoryParameter");
        assert_eq!(
            id(&REQUEST, &["-New", "-Type", "Default", "-Bogus"]),
            "NamedParameterNotFound"
        );
        assert_eq!(
            id(&REQUEST, &["-New", "-Type", "Default", "-C", "x"]),
            "AmbiguousParameter"
        );
        assert_eq!(id(&REQUEST, &["-New", "-List"]), "AmbiguousParameterSet");
        assert_eq!(id(&REQUEST, &["-New", "-Type"]), "MissingArgument");
        assert_eq!(
            id(&SET, &["-Thumbprint", "A", "-Thumbprint", "B"]),
            "ParameterAlreadyBound"
        );
        assert_eq!(
            id(&REQUEST, &["-List", "stray"]),
            "PositionalParameterNotFound"
        );
        assert_eq!(
            id(&REQUEST, &["-New", "-Type", "Defualt"]),
            "CannotConvertArgumentNoMessage"
        );
        assert_eq!(
            id(
                &EXPORT,
                &[
                    "-Thumbprint",
                    "AB",
                    "-Path",
                    "x",
                    "-Password",
                    "System.Security.SecureString"
                ]
            ),
            "SecureStringNotSupported"
        );
    }

    #[test]
    fn secrets_come_from_the_given_environment_never_the_process() {
        let env = |k: &str| (k == "CSCERT_PASSWORD").then(|| "s3cret".to_string());
        let b = bind_with(&EXPORT, &argv(&["-Thumbprint", "AB", "-Path", "x"]), &env).unwrap();
        assert_eq!(b.str("Password"), Some("s3cret"));
        // The trace masks it.
        assert_eq!(b.to_json()["Parameters"]["Password"], SECRET_MASK);
        // -Password on argv wins over the variable.
        let b = bind_with(
            &EXPORT,
            &argv(&["-Thumbprint", "AB", "-Path", "x", "-Password", "p"]),
            &env,
        )
        .unwrap();
        assert_eq!(b.str("Password"), Some("p"));
        // Set's -Password belongs to the Path set only: the variable does not bind elsewhere.
        let b = bind_with(&SET, &argv(&["-Thumbprint", "AB"]), &env).unwrap();
        assert_eq!(b.str("Password"), None);
        assert_eq!(
            mask_secrets(&EXPORT, &argv(&["-Password", "p", "-Path:x"])),
            argv(&["-Password", SECRET_MASK, "-Path:x"])
        );
    }
}
