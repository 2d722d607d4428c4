//! PowerShell's binding error records, with the texts and ids of ParameterBinderStrings.resx.

use super::table::{CmdletDef, PType, ParamDef};
use crate::error::{Category, CsError};

fn err(cmdlet: &CmdletDef, id: &str, cat: Category, msg: String) -> CsError {
    let _ = cmdlet;
    CsError::binding(id, cat, msg)
}

pub fn named_not_found(c: &CmdletDef, given: &str) -> CsError {
    err(
        c,
        "NamedParameterNotFound",
        Category::InvalidArgument,
        format!("A parameter cannot be found that matches parameter name '{given}'."),
    )
    .with_target(given)
}

pub fn ambiguous(c: &CmdletDef, given: &str, names: &[&str]) -> CsError {
    let list: Vec<String> = names.iter().map(|n| format!("-{n}")).collect();
    err(
        c,
        "AmbiguousParameter",
        Category::InvalidArgument,
        format!(
            "Parameter cannot be processed because the parameter name '{given}' is ambiguous. Possible matches include: {}.",
            list.join(" ")
        ),
    )
    .with_target(given)
}

pub fn positional_not_found(c: &CmdletDef, arg: &str) -> CsError {
    err(
        c,
        "PositionalParameterNotFound",
        Category::InvalidArgument,
        format!("A positional parameter cannot be found that accepts argument '{arg}'."),
    )
    .with_target(arg)
}

pub fn missing_argument(c: &CmdletDef, p: &ParamDef) -> CsError {
    // pwsh passes `$true` as `True`; a Unix shell expands `$true` to nothing, which lands here.
    let hint = if cfg!(unix) && p.ty == PType::Bool {
        " On a Unix shell $true expands to nothing: write True, 1 or '$true'."
    } else {
        ""
    };
    err(
        c,
        "MissingArgument",
        Category::InvalidArgument,
        format!(
            "Missing an argument for parameter '{}'. Specify a parameter of type '{}' and try again.{hint}",
            p.name,
            p.dotnet_type()
        ),
    )
    .with_target(p.name)
}

pub fn already_bound(c: &CmdletDef, p: &ParamDef) -> CsError {
    err(
        c,
        "ParameterAlreadyBound",
        Category::InvalidArgument,
        format!(
            "Cannot bind parameter because parameter '{}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".",
            p.name
        ),
    )
    .with_target(p.name)
}

pub fn missing_mandatory(c: &CmdletDef, names: &[&str]) -> CsError {
    err(
        c,
        "MissingMandatoryParameter",
        Category::InvalidArgument,
        format!(
            "Cannot process command because of one or more missing mandatory parameters: {}.",
            names.join(" ")
        ),
    )
}

pub fn ambiguous_set(c: &CmdletDef) -> CsError {
    err(
        c,
        "AmbiguousParameterSet",
        Category::InvalidArgument,
        "Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.".to_string(),
    )
}

fn cannot_convert(c: &CmdletDef, p: &ParamDef, value: &str, to: &str, inner: String) -> CsError {
    err(
        c,
        "CannotConvertArgumentNoMessage",
        Category::InvalidArgument,
        format!(
            "Cannot bind parameter '{}'. Cannot convert value \"{value}\" to type \"{to}\". Error: \"{inner}\"",
            p.name
        ),
    )
    .with_target(value)
}

pub fn bad_enum(c: &CmdletDef, p: &ParamDef, dotnet: &str, names: &[&str], value: &str) -> CsError {
    cannot_convert(
        c,
        p,
        value,
        dotnet,
        format!(
            "Unable to match the identifier name {value} to a valid enumerator name. Specify one of the following enumerator names and try again: {}",
            names.join(", ")
        ),
    )
}

pub fn bad_cert_type(c: &CmdletDef, p: &ParamDef, value: &str) -> CsError {
    let names: Vec<&str> = crate::model::CertType::ALL
        .iter()
        .map(|t| t.name())
        .collect();
    bad_enum(c, p, crate::model::CERT_TYPE_DOTNET, &names, value)
}

pub fn bad_int(c: &CmdletDef, p: &ParamDef, value: &str) -> CsError {
    cannot_convert(
        c,
        p,
        value,
        "System.Int32",
        "Input string was not in a correct format.".to_string(),
    )
}

/// PowerShell's conversion error, then which culture and forms cscert reads (`hint`).
pub fn bad_date(c: &CmdletDef, p: &ParamDef, value: &str, hint: &str) -> CsError {
    let mut e = cannot_convert(
        c,
        p,
        value,
        "System.DateTime",
        format!("String '{value}' was not recognized as a valid DateTime."),
    );
    e.message = format!("{} {hint}", e.message);
    e
}

pub fn bad_bool(c: &CmdletDef, p: &ParamDef) -> CsError {
    err(
        c,
        "ParameterArgumentTransformationError",
        Category::InvalidData,
        format!(
            "Cannot process argument transformation on parameter '{}'. Cannot convert value \"System.String\" to type \"{}\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
            p.name,
            p.dotnet_type()
        ),
    )
    .with_target(p.name)
}

/// pwsh passes a SecureString to a native program as its type name: the secret never arrives.
pub fn secure_string(c: &CmdletDef, p: &ParamDef) -> CsError {
    err(
        c,
        "SecureStringNotSupported",
        Category::InvalidArgument,
        format!(
            "Cannot bind parameter '{}'. A SecureString cannot be passed to a native program: it arrived as the text \"System.Security.SecureString\". Import the cscert module (it converts SecureStrings), pass the password as plain text, or set $env:CSCERT_PASSWORD.",
            p.name
        ),
    )
    .with_target(p.name)
}

/// `[ValidateNotNullOrEmpty]`: an empty value (an empty password protects nothing).
pub fn empty_argument(c: &CmdletDef, p: &ParamDef) -> CsError {
    err(
        c,
        "ParameterArgumentValidationError",
        Category::InvalidData,
        format!("Cannot validate argument on parameter '{}'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.", p.name),
    )
    .with_target(p.name)
}

/// `[ValidateRange(min, max)]` on an integer parameter.
pub fn out_of_range(name: &str, value: i64, min: i64, max: i64) -> CsError {
    let msg = if value < min {
        format!("Cannot validate argument on parameter '{name}'. The {value} argument is less than the minimum allowed range of {min}. Supply an argument that is greater than or equal to {min} and then try the command again.")
    } else {
        format!("Cannot validate argument on parameter '{name}'. The {value} argument is greater than the maximum allowed range of {max}. Supply an argument that is less than or equal to {max} and then try the command again.")
    };
    CsError::binding(
        "ParameterArgumentValidationError",
        Category::InvalidData,
        msg,
    )
    .with_target(value.to_string())
}
