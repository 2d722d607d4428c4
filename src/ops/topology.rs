//! The published topology: publishing a document, reading it back, and the names a use needs
//! on a computer as the other operations ask for them.

use super::certs::{self, InputError};
use super::{Ctx, CtxError};
use crate::error::{Category, CsError};
use crate::model::CertType;
use crate::store::StoreError;
use crate::topology::{
    compute_names, parse, ComputedNames, NamesError, Topology, TopologyError as DocumentError,
    TopologySummary,
};

/// Why the topology could not be published, read, or asked for names.
#[derive(Debug)]
pub enum TopologyOpError {
    /// The document in the store no longer parses.
    PublishedUnreadable(DocumentError),
    /// The topology cannot give the names of a use on a computer.
    Names(NamesError),
    /// The file to publish is not UTF-8 text.
    NotUtf8 {
        file: String,
    },
    /// The file to publish does not parse as a topology.
    Invalid {
        file: String,
        error: DocumentError,
    },
    NonePublished,
    Input(InputError),
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(TopologyOpError: Input(InputError), Store(StoreError), Ctx(CtxError));

impl From<TopologyOpError> for CsError {
    fn from(e: TopologyOpError) -> CsError {
        match e {
            TopologyOpError::PublishedUnreadable(e) => CsError::failed(
                "PublishedTopologyUnreadable",
                Category::InvalidData,
                format!("The topology published in the store cannot be read ({e}). Publish it again with Publish-CsTopology -FileName <file>."),
            ),
            TopologyOpError::Names(e) => names_error(e),
            TopologyOpError::NotUtf8 { file } => CsError::failed(
                "TopologyNotUtf8",
                Category::InvalidData,
                format!("'{file}' is not a UTF-8 text document; export it with Get-CsTopology -AsXml | Out-File -Encoding utf8 {file}."),
            )
            .with_target(file),
            TopologyOpError::Invalid { file, error } => CsError::failed(
                "InvalidTopology",
                Category::InvalidData,
                format!("'{file}' is not a usable topology document: {error}. The published topology was not changed."),
            )
            .with_target(file),
            TopologyOpError::NonePublished => CsError::failed(
                "NoTopologyPublished",
                Category::ObjectNotFound,
                "No topology is published in the store. Publish one with Publish-CsTopology -FileName <file> (export it on a Lync server with Get-CsTopology -AsXml).",
            ),
            TopologyOpError::Input(e) => e.into(),
            TopologyOpError::Store(e) => e.into(),
            TopologyOpError::Ctx(e) => e.into(),
        }
    }
}

/// A names error in PowerShell's terms.
fn names_error(e: NamesError) -> CsError {
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

/// The published topology, parsed; `None` when nothing is published.
pub fn published(ctx: &mut Ctx) -> Result<Option<Topology>, TopologyOpError> {
    let xml = ctx.store()?.read(|tx| tx.topology())?;
    match xml {
        None => Ok(None),
        Some((xml, _)) => parse(&xml)
            .map(Some)
            .map_err(TopologyOpError::PublishedUnreadable),
    }
}

/// The names `uses` need on `computer`.
pub fn expected_names(
    topo: &Topology,
    computer: &str,
    uses: &[CertType],
    all_sip_domain: bool,
    extra: &[String],
) -> Result<ComputedNames, TopologyOpError> {
    compute_names(topo, computer, uses, all_sip_domain, extra).map_err(TopologyOpError::Names)
}

/// Publishes the topology document `file` (replacing one asks unless `force`). `Ok(None)`:
/// -WhatIf or declined.
pub fn publish(
    ctx: &mut Ctx,
    file: &str,
    force: bool,
) -> Result<Option<TopologySummary>, TopologyOpError> {
    let bytes = certs::read_input(ctx, file, certs::TOPOLOGY_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|_| TopologyOpError::NotUtf8 {
        file: file.to_string(),
    })?;
    // Parse before storing: a document that does not parse never replaces the published one.
    let topo = parse(&text).map_err(|error| TopologyOpError::Invalid {
        file: file.to_string(),
        error,
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
    ctx.store()?.write(|tx| -> Result<(), StoreError> {
        tx.put_topology(&text, now)?;
        tx.commit()
    })?;
    Ok(Some(topo.summary()))
}

/// The published document as stored: its XML, or an error when nothing is published.
pub fn stored_xml(ctx: &mut Ctx) -> Result<String, TopologyOpError> {
    let xml = ctx.store()?.read(|tx| tx.topology())?;
    match xml {
        Some((xml, _)) => Ok(xml),
        None => Err(TopologyOpError::NonePublished),
    }
}

/// The summary of a stored document.
pub fn summary_of(xml: &str) -> Result<TopologySummary, TopologyOpError> {
    Ok(parse(xml)
        .map_err(TopologyOpError::PublishedUnreadable)?
        .summary())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::TempDir;

    #[test]
    fn nothing_published_is_its_own_error() {
        let dir = TempDir::new("topology-none");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        assert!(published(&mut ctx).unwrap().is_none());
        let e = stored_xml(&mut ctx).unwrap_err();
        assert!(matches!(e, TopologyOpError::NonePublished), "{e:?}");
        assert_eq!(CsError::from(e).error_id, "NoTopologyPublished");
    }

    #[test]
    fn a_file_to_publish_is_found_text_and_a_topology_or_refused() {
        let dir = TempDir::new("topology-publish");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let missing = dir.0.join("missing.xml").display().to_string();
        match publish(&mut ctx, &missing, true).unwrap_err() {
            TopologyOpError::Input(InputError::PathNotFound { shown, .. }) => {
                assert_eq!(shown, missing)
            }
            e => panic!("{e:?}"),
        }
        let latin1 = dir.0.join("latin1.xml");
        std::fs::write(&latin1, b"<Topology name=\"caf\xe9\"/>").unwrap();
        let shown = latin1.display().to_string();
        match publish(&mut ctx, &shown, true).unwrap_err() {
            TopologyOpError::NotUtf8 { file } => assert_eq!(file, shown),
            e => panic!("{e:?}"),
        }
        let junk = dir.0.join("junk.xml");
        std::fs::write(&junk, "not xml at all").unwrap();
        let shown = junk.display().to_string();
        let e = publish(&mut ctx, &shown, true).unwrap_err();
        assert!(
            matches!(&e, TopologyOpError::Invalid { file, .. } if *file == shown),
            "{e:?}"
        );
        let e = CsError::from(e);
        assert_eq!(
            (e.error_id.as_str(), e.target.as_deref()),
            ("InvalidTopology", Some(shown.as_str()))
        );
        // Nothing was published by the refused documents.
        assert!(published(&mut ctx).unwrap().is_none());
    }
}
