//! The published topology: publishing a document, reading it back, and the names a use needs
//! on a computer as the other operations ask for them.

use super::{certs, Ctx};
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::topology::{compute_names, parse, ComputedNames, NamesError, Topology, TopologySummary};

fn broken_store_copy(e: impl std::fmt::Display) -> CsError {
    CsError::failed(
        "PublishedTopologyUnreadable",
        Category::InvalidData,
        format!("The topology published in the store cannot be read ({e}). Publish it again with Publish-CsTopology -FileName <file>."),
    )
}

/// The published topology, parsed; `None` when nothing is published.
pub fn published(ctx: &mut Ctx) -> CsResult<Option<Topology>> {
    let xml = ctx.store()?.read(|tx| tx.topology())?;
    match xml {
        None => Ok(None),
        Some((xml, _)) => parse(&xml).map(Some).map_err(broken_store_copy),
    }
}

/// The names `uses` need on `computer`, with the topology's error in PowerShell's terms.
pub fn expected_names(
    topo: &Topology,
    computer: &str,
    uses: &[CertType],
    all_sip_domain: bool,
    extra: &[String],
) -> CsResult<ComputedNames> {
    compute_names(topo, computer, uses, all_sip_domain, extra).map_err(names_error)
}

pub fn names_error(e: NamesError) -> CsError {
    let (id, cat) = match &e {
        NamesError::UseNotNeeded { .. } => ("CertificateNotNeeded", Category::InvalidOperation),
        NamesError::UnknownComputer { .. } | NamesError::AmbiguousComputer { .. } => {
            ("UnknownComputer", Category::ObjectNotFound)
        }
        NamesError::MissingName { .. } => ("TopologyIncomplete", Category::InvalidData),
        _ => ("NamesNotComputed", Category::InvalidArgument),
    };
    let mut msg = e.to_string();
    if let NamesError::UnknownComputer { .. } = e {
        // Say what to do: on a workstation "this computer" is rarely a server of the topology.
        msg.push_str(". Name a server of the topology with -ComputerFqdn <FQDN>, or set CSCERT_COMPUTERFQDN to the server cscert acts as.");
    }
    CsError::failed(id, cat, msg)
}

/// Publishes the topology document `file` (replacing one asks unless `force`). `Ok(None)`:
/// -WhatIf or declined.
pub fn publish(ctx: &mut Ctx, file: &str, force: bool) -> CsResult<Option<TopologySummary>> {
    let bytes = certs::read_input(ctx, file, certs::TOPOLOGY_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CsError::failed("TopologyNotUtf8", Category::InvalidData, format!("'{file}' is not a UTF-8 text document; export it with Get-CsTopology -AsXml | Out-File -Encoding utf8 {file}."))
            .with_target(file)
    })?;
    // Parse before storing: a document that does not parse never replaces the published one.
    let topo = parse(&text).map_err(|e| {
        CsError::failed("InvalidTopology", Category::InvalidData, format!("'{file}' is not a usable topology document: {e}. The published topology was not changed.")).with_target(file)
    })?;
    // Replacing a published topology asks (its help: -Force replaces without asking); the
    // first publication does not.
    let replaces = ctx.store()?.read(|tx| tx.topology())?.is_some();
    let go = if replaces {
        ctx.should_process_high(force, file, "Replace the published topology")?
    } else {
        ctx.should_process(file, "Publish topology")?
    };
    if !go {
        return Ok(None);
    }
    let now = ctx.now;
    ctx.store()?.write(|tx| -> CsResult<()> {
        tx.put_topology(&text, now)?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(Some(topo.summary()))
}

/// The published document as stored: its XML, or an error when nothing is published.
pub fn stored_xml(ctx: &mut Ctx) -> CsResult<String> {
    let xml = ctx.store()?.read(|tx| tx.topology())?;
    match xml {
        Some((xml, _)) => Ok(xml),
        None => Err(CsError::failed(
            "NoTopologyPublished",
            Category::ObjectNotFound,
            "No topology is published in the store. Publish one with Publish-CsTopology -FileName <file> (export it on a Lync server with Get-CsTopology -AsXml).",
        )),
    }
}

/// The summary of a stored document.
pub fn summary_of(xml: &str) -> CsResult<TopologySummary> {
    Ok(parse(xml).map_err(broken_store_copy)?.summary())
}
