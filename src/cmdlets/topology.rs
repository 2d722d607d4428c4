//! Publish-CsTopology and Get-CsTopology (ops::topology).

use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::{topology, Ctx};

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
