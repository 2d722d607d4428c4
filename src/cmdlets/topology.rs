//! Publish-CsTopology and Get-CsTopology (ops::topology).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::{topology, Ctx};

/// The parameter table and help of this cmdlet.
pub static PUBLISH_TOPOLOGY: CmdletDef = CmdletDef {
    name: "Publish-CsTopology",
    synopsis: "Stores a topology document (Get-CsTopology -AsXml output or a Topology Builder .tbxml) so that certificate names are computed from it.",
    description: "",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("FileName", PType::Str, "The topology document.").mandatory(&["Default"]),
        p("Force", PType::Switch, "Replace without asking."),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
    ],
    examples: &[("Publish-CsTopology -FileName topology.xml", "Publishes a topology exported on a Lync server with Get-CsTopology -AsXml.")],
    lync: true,
};

pub static GET_TOPOLOGY: CmdletDef = CmdletDef {
    name: "Get-CsTopology",
    synopsis: "Returns the published topology: a JSON summary, or with -AsXml the stored document unchanged.",
    description: "",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[p("AsXml", PType::Switch, "Print the stored XML document unchanged.")],
    examples: &[("Get-CsTopology -AsXml", "Prints the published document.")],
    lync: true,
};

pub fn publish(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let file = b.str("FileName").expect("mandatory");
    let Some(s) = topology::publish(ctx, file, b.switch("Force"))? else {
        return Ok(());
    };
    ctx.host.verbose(format!(
        "Published the topology from {file}: {} SIP domain(s), {} pool(s).",
        s.sip_domains.len(),
        s.pools.len()
    ));
    ctx.host.emit(&s);
    Ok(())
}

pub fn get(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let xml = topology::stored_xml(ctx)?;
    if b.switch("AsXml") {
        ctx.host.emit_text(&xml);
        return Ok(());
    }
    let summary = topology::summary_of(&xml)?;
    ctx.host.emit(&summary);
    Ok(())
}
