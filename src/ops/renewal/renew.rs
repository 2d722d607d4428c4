//! Renewing one due group: under the renewal lock, the certificate an earlier run already
//! issued is taken (never issued twice); else a new one is made from the recorded source with
//! a new key of the same algorithm and size and the same names (the topology's, when it now
//! computes others), or, for an imported certificate, one offline request is written. Then it
//! is assigned: staged uses rolled, the others at once with the old one as previous.

use super::plan::{self, Decision, Facts, Group};
use super::{deploy, Renewal, Status, UpdateArgs, UpdateError};
use crate::error::CsError;
use crate::model::{join_uses, CertType};
use crate::ops::acme::AcmeArgs;
use crate::ops::assign::{self, AssignTo};
use crate::ops::request::{self, NewArgs, NewResult};
use crate::ops::Ctx;
use crate::pki::inspect::Inspected;
use crate::store::{RenewalState, SourceKind};
use chrono::Duration;

/// Microsoft's lead times for a staged roll (stage-av-and-oauth-certificates.md): the
/// AudioVideoAuthentication token lifetime (8 hours) and, for OAuthTokenIssuer, 24 hours
/// (Exchange and other partners keep its tokens longer).
fn lead_time(u: CertType) -> Option<Duration> {
    match u {
        CertType::AudioVideoAuthentication => Some(Duration::hours(8)),
        CertType::OAuthTokenIssuer => Some(Duration::hours(24)),
        _ => None,
    }
}

/// What a renewal produced.
enum Made {
    Certificate { thumbprint: String, how: String },
    Request { id: i64, path: String },
}

/// The uses of `g` that still show its certificate (another run may have renewed them while
/// this one waited for the lock), and the certificate the others show now.
fn still_shown(ctx: &mut Ctx, g: &Group) -> Result<(Vec<CertType>, Option<String>), UpdateError> {
    let now = ctx.now;
    let scopes = [g.scope.clone()];
    let states = ctx.store()?.read(|tx| assign::states(tx, &scopes, now))?;
    let mut same = Vec::new();
    let mut other = None;
    for (_, u, st) in states.iter().filter(|(_, u, _)| g.uses.contains(u)) {
        match assign::shown(st) {
            Some((s, _)) if s.thumbprint == g.thumbprint => same.push(*u),
            Some((s, _)) => other = Some(s.thumbprint.clone()),
            None => {}
        }
    }
    Ok((same, other))
}

/// Renews one due group (the caller holds the renewal lock).
pub fn renew_group(
    ctx: &mut Ctx,
    a: &UpdateArgs<'_>,
    mut g: Group,
    d: Decision,
) -> Result<Vec<Renewal>, UpdateError> {
    let before = g.uses.clone();
    let (uses, now_shown) = still_shown(ctx, &g)?;
    g.uses = uses;
    if g.uses.is_empty() {
        let moved = Group {
            uses: before,
            thumbprint: now_shown.unwrap_or(g.thumbprint),
            scope: g.scope,
        };
        return Ok(plan::rows(
            &moved,
            Status::NotDue,
            None,
            "renewed meanwhile by another run".into(),
        ));
    }
    let f = match plan::facts(ctx, &g)? {
        Ok(f) => f,
        Err(reason) => return Ok(plan::rows(&g, Status::Failed, None, reason)),
    };
    let fail = |reason: String| plan::rows(&g, Status::Failed, Some((&f, &d)), reason);
    if let Some(reason) = elsewhere(ctx, a, &g, &f) {
        return Ok(fail(reason));
    }
    let made = match earlier(ctx, &f)? {
        Some(m) => m,
        None => match issue(ctx, a, &g, &f, &d) {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(Vec::new()),
            Err(reason) => {
                return Ok(fail(
                    format!("{}; the old assignment stays in service", d.why)
                        + &format!(": {reason}"),
                ))
            }
        },
    };
    match made {
        Made::Request { id, path } => {
            let reason = format!(
                "{}; it was imported from a CA cscert cannot ask: request {id} ({path}) waits for a person to send it to the CA and import the answer (Import-CsCertificate); the next run assigns it",
                d.why
            );
            Ok(plan::rows(
                &g,
                Status::RequestWritten,
                Some((&f, &d)),
                reason,
            ))
        }
        Made::Certificate { thumbprint, how } => {
            let reason = format!("{}; {how}", d.why);
            let rows = assign_new(ctx, a, &g, &f, &thumbprint, reason)?;
            Ok(deploy::after(ctx, a, &g, rows))
        }
    }
}

/// -All on another computer: an ACME certificate whose http-01 challenge must be answered on
/// that computer cannot be renewed from here.
fn elsewhere(ctx: &mut Ctx, a: &UpdateArgs<'_>, g: &Group, f: &Facts) -> Option<String> {
    let s = f.source.as_ref()?;
    let here = ctx.this_computer();
    let remote = a.all && g.scope != assign::GLOBAL && !g.scope.eq_ignore_ascii_case(&here);
    (remote && s.kind == SourceKind::Acme && s.settings.challenge.as_deref() != Some("Dns01")).then(|| {
        format!(
            "its ACME CA checks http-01 on {} itself: run Update-CsCertificate there (or issue it with -AcmeChallenge Dns01 to renew it from any host)",
            g.scope
        )
    })
}

/// A certificate an earlier run issued (and died before assigning), or the CA's answer to the
/// offline request written for an imported one; or that request, still pending.
fn earlier(ctx: &mut Ctx, f: &Facts) -> Result<Option<Made>, UpdateError> {
    let now = ctx.now;
    for t in &f.renewed_by {
        let row = ctx.store()?.read(|tx| tx.certificate(t))?;
        if let Some(c) = row.and_then(|r| crate::pki::inspect::inspect_der_certificate(&r.der).ok())
        {
            if c.not_after.is_some_and(|na| na > now) {
                return Ok(Some(Made::Certificate {
                    thumbprint: t.clone(),
                    how: format!("finished the renewal an earlier run began: {t} was issued but not yet assigned"),
                }));
            }
        }
    }
    let Some(id) = f.state.offline_request_id else {
        return Ok(None);
    };
    let found = ctx.store()?.read(|tx| tx.request_status(id))?;
    Ok(match found {
        Some((status, Some(t))) if status == "Completed" => Some(Made::Certificate {
            how: format!("the CA's answer to request {id} was imported"),
            thumbprint: t,
        }),
        Some((_, _)) => {
            let path = ctx
                .store()?
                .read(|tx| tx.requests(Some(id)))?
                .into_iter()
                .next()
                .and_then(|r| r.output)
                .unwrap_or_default();
            Some(Made::Request { id, path })
        }
        None => None,
    })
}

/// -KeyAlg/-KeySize of the old certificate's key.
fn key_of(c: &Inspected) -> (&'static str, Option<i32>) {
    match (c.key.algorithm.as_str(), c.key.curve.as_deref()) {
        ("EC", Some("P-256")) => ("ECDH_P256", None),
        ("EC", Some("P-384")) => ("ECDH_P384", None),
        ("EC", Some("P-521")) => ("ECDH_P521", None),
        _ => ("RSA", Some(c.key.bits.clamp(2048, 4096) as i32)),
    }
}

/// The names of the renewal: the old certificate's (subject first), or none when the published
/// topology computes them (then a difference is said).
fn names(ctx: &mut Ctx, g: &Group, c: &Inspected) -> Result<(Vec<String>, Option<String>), String> {
    let topo = crate::ops::topology::published(ctx).map_err(|e| CsError::from(e).message)?;
    let old: Vec<String> = c
        .subject_cn
        .iter()
        .chain(&c.dns_names)
        .fold(Vec::new(), |mut v, n| {
            if !v.iter().any(|x: &String| x.eq_ignore_ascii_case(n)) {
                v.push(n.clone());
            }
            v
        });
    let Some(topo) = topo else {
        return Ok((old, None));
    };
    let computer = if g.scope == assign::GLOBAL {
        ctx.this_computer()
    } else {
        g.scope.clone()
    };
    let names = crate::ops::topology::expected_names(&topo, &computer, &g.uses, false, &[])
        .map_err(|e| CsError::from(e).message)?;
    let lower = |v: &[String]| {
        let mut l: Vec<String> = v.iter().map(|n| n.to_ascii_lowercase()).collect();
        l.sort();
        l.dedup();
        l
    };
    let mut wanted = names.sans.clone();
    wanted.push(names.subject.clone());
    let note = (lower(&wanted) != lower(&old)).then(|| {
        let m = format!(
            "the published topology now names {} (the old certificate: {}); the new certificate has the topology's names",
            lower(&wanted).join(", "),
            lower(&old).join(", ")
        );
        ctx.host.warning(format!("{}: {m}.", g.thumbprint));
        m
    });
    Ok((Vec::new(), note))
}

/// Makes the new certificate (or the offline request) from the recorded source. `Ok(None)`:
/// declined at -Confirm.
fn issue(
    ctx: &mut Ctx,
    a: &UpdateArgs<'_>,
    g: &Group,
    f: &Facts,
    d: &Decision,
) -> Result<Option<Made>, String> {
    let c = crate::pki::inspect::inspect_der_certificate(&f.row.der).map_err(|e| e.to_string())?;
    let (domain_names, note) = names(ctx, g, &c)?;
    let (key_alg, key_size) = key_of(&c);
    let s = f
        .source
        .as_ref()
        .map(|s| s.settings.clone())
        .unwrap_or_default();
    let kind = f.source.as_ref().map(|s| s.kind);
    let stamp = ctx.now.format("%Y%m%dT%H%M%SZ");
    let cn = c
        .subject_cn
        .first()
        .cloned()
        .unwrap_or_else(|| "certificate".into());
    let file = format!("{}-{stamp}.req", cn.replace(['*', '/', '\\', ':'], "_"));
    let output = ctx
        .full_path(a.request_path.unwrap_or("."))
        .join(file)
        .display()
        .to_string();
    let topology_computer =
        (domain_names.is_empty() && g.scope != assign::GLOBAL).then_some(g.scope.as_str());
    let contact: Vec<String> = s
        .contact
        .iter()
        .flat_map(|c| c.split(','))
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let mut acme = AcmeArgs::default();
    if kind == Some(SourceKind::Acme) {
        acme = AcmeArgs {
            agree_tos: false,
            ca_bundle: s.ca_bundle.as_deref(),
            challenge: s.challenge.as_deref(),
            contact,
            dns_hook: s.dns_hook.as_deref(),
            dns_wait_sec: s.dns_wait_sec,
            http_port: s.http_port,
            timeout_sec: s.timeout_sec,
            web_root: s.web_root.as_deref(),
            given: given(&s),
            ..AcmeArgs::default()
        };
    }
    let args = NewArgs {
        uses: g.uses.clone(),
        key_alg: Some(key_alg),
        key_size,
        organization: s.organization.as_deref(),
        ou: s.ou.as_deref(),
        city: s.city.as_deref(),
        state: s.state.as_deref(),
        country: s.country.as_deref(),
        validity_days: s.validity_days,
        exportable: f.row.exportable,
        computer: topology_computer,
        domain_names,
        output: kind.is_none().then_some(output.as_str()),
        ca: kind.map(|_| s.ca.as_str()),
        client_eku: s.client_eku
            || c.eku
                .as_ref()
                .is_some_and(|e| e.iter().any(|o| o == "1.3.6.1.5.5.7.3.2")),
        template: s.template.as_deref(),
        friendly_name: f.row.friendly_name.as_deref(),
        acme,
        renews: Some(&g.thumbprint),
        replaces: d.replaces.clone(),
        ..NewArgs::default()
    };
    let made = request::new(ctx, args).map_err(|e| CsError::from(e).message)?;
    let note = note.map(|n| format!("; {n}")).unwrap_or_default();
    Ok(match made {
        None => None,
        Some(NewResult::Issued(c)) => Some(Made::Certificate {
            how: format!("issued by {}{note}", c.core.issuer),
            thumbprint: c.core.thumbprint,
        }),
        Some(NewResult::Offline(r)) => {
            let now = ctx.now;
            let st = RenewalState {
                offline_request_id: Some(r.request_id),
                ..f.state.clone()
            };
            ctx.store()
                .and_then(|s| {
                    s.write(|tx| {
                        tx.put_renewal_state(&g.thumbprint, &st, now)?;
                        tx.commit()
                    })
                })
                .map_err(|e| CsError::from(e).message)?;
            Some(Made::Request {
                id: r.request_id,
                path: r.output,
            })
        }
    })
}

/// The -Acme* parameters a recorded source gives (a parameter given is checked, not ignored).
fn given(s: &crate::store::SourceSettings) -> Vec<&'static str> {
    [
        ("AcmeCaBundle", s.ca_bundle.is_some()),
        ("AcmeChallenge", s.challenge.is_some()),
        ("AcmeDnsHook", s.dns_hook.is_some()),
        ("AcmeDnsWaitSec", s.dns_wait_sec.is_some()),
        ("AcmeHttpPort", s.http_port.is_some()),
        ("AcmeTimeoutSec", s.timeout_sec.is_some()),
        ("AcmeWebRoot", s.web_root.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, on)| on.then_some(n))
    .collect()
}

/// Assigns the new certificate: the staged uses rolled with an effective date Microsoft's lead
/// time (or -RollDelay) ahead, the others at once (the old one becomes previous).
fn assign_new(
    ctx: &mut Ctx,
    a: &UpdateArgs<'_>,
    g: &Group,
    f: &Facts,
    new: &str,
    reason: String,
) -> Result<Vec<Renewal>, UpdateError> {
    let now = ctx.now;
    let (staged, at_once): (Vec<CertType>, Vec<CertType>) =
        g.uses.iter().partition(|u| lead_time(**u).is_some());
    let lead = staged
        .iter()
        .filter_map(|u| lead_time(*u))
        .max()
        .unwrap_or_default();
    let delay = a
        .roll_delay_hours
        .map_or(lead, |h| Duration::hours(h.into()));
    // Never later than the old certificate's expiry minus the lead time, never before now.
    let effective = (now + delay).min(f.not_after - lead).max(now);
    let new_info = ctx
        .store()?
        .read(|tx| tx.certificate(new))?
        .and_then(|r| crate::pki::inspect::inspect_der_certificate(&r.der).ok());
    let (na, nb) = new_info
        .as_ref()
        .map_or((None, None), |c| (c.not_after, c.not_before));
    let mut out = Vec::new();
    for (uses, roll) in [(at_once, false), (staged, true)] {
        if uses.is_empty() {
            continue;
        }
        let to = AssignTo {
            uses: &uses,
            identity: Some(&g.scope),
            roll,
            effective: roll.then_some(effective),
        };
        let (status, reason) = match assign::assign_stored(ctx, new, to) {
            Ok(Some(lines)) => {
                for l in lines {
                    ctx.host.verbose(l);
                }
                (
                    if roll {
                        Status::Staged
                    } else {
                        Status::Renewed
                    },
                    reason.clone(),
                )
            }
            Ok(None) => continue,
            Err(e) => (
                Status::Failed,
                format!(
                    "{reason}; assigning it for {} failed, the old one stays: {}",
                    join_uses(&uses),
                    CsError::from(e).message
                ),
            ),
        };
        for u in &uses {
            out.push(Renewal {
                use_name: u.name(),
                identity: g.scope.clone(),
                status,
                thumbprint: Some(new.to_string()),
                previous_thumbprint: Some(g.thumbprint.clone()),
                not_after: na,
                renew_after: na
                    .zip(nb)
                    .map(|(na, nb)| plan::lifetime_renew_after(nb, na)),
                effective_time: Some(if roll { effective } else { now }),
                source: f.source_text(),
                reason: reason.clone(),
                deploy_failed: false,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_uses_get_microsofts_lead_times() {
        assert_eq!(
            lead_time(CertType::AudioVideoAuthentication),
            Some(Duration::hours(8))
        );
        assert_eq!(
            lead_time(CertType::OAuthTokenIssuer),
            Some(Duration::hours(24))
        );
        assert_eq!(lead_time(CertType::AccessEdgeExternal), None);
    }

    #[test]
    fn a_source_gives_only_its_own_acme_parameters() {
        let s = crate::store::SourceSettings {
            challenge: Some("Dns01".into()),
            dns_hook: Some("/usr/local/bin/hook".into()),
            ..Default::default()
        };
        assert_eq!(given(&s), vec!["AcmeChallenge", "AcmeDnsHook"]);
    }
}
