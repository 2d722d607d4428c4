//! The one PEM reader: blocks with their label and contents, the fast path first.
//!
//! `inspect` (Test-CsCertificate over thousands of files), `certfile` and
//! `issue` (CA files) all read PEM here. It imports only `der` (key format conversion).

use super::der::{ec_sec1_to_pkcs8, rsa_pkcs1_to_pkcs8};

/// One PEM block.
#[derive(Clone, PartialEq, Eq)]
pub struct Block {
    /// The label after `BEGIN `, e.g. `CERTIFICATE`.
    pub tag: String,
    /// The decoded contents (DER).
    pub contents: Vec<u8>,
    /// The block has an RFC 1421 `Proc-Type` header: an old-style encrypted key.
    pub proc_type: bool,
}

// Hand-written: a block may be a private key.
impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("tag", &self.tag)
            .field("contents", &format_args!("<{} bytes>", self.contents.len()))
            .field("proc_type", &self.proc_type)
            .finish()
    }
}

impl Block {
    /// An X.509 certificate label (`CERTIFICATE`, and the old `X509` / OpenSSL `TRUSTED` ones).
    pub fn is_certificate(&self) -> bool {
        matches!(
            self.tag.as_str(),
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE"
        )
    }

    /// A PKCS#10 request label (`NEW CERTIFICATE REQUEST` is what Windows writes).
    pub fn is_request(&self) -> bool {
        matches!(
            self.tag.as_str(),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"
        )
    }
}

impl Block {
    /// PKCS#8 DER of a PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` block (`None` for
    /// other labels and for contents that are no such key).
    pub fn legacy_key_pkcs8(&self) -> Option<Vec<u8>> {
        match self.tag.as_str() {
            "RSA PRIVATE KEY" => rsa_pkcs1_to_pkcs8(&self.contents),
            "EC PRIVATE KEY" => ec_sec1_to_pkcs8(&self.contents),
            _ => None,
        }
    }
}

/// Whether `bytes` look like PEM: not DER (which starts with 0x30) and a `-----BEGIN ` marker
/// somewhere (PEM may have leading text, as `openssl x509 -text` writes it).
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.first() != Some(&0x30) && bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// The text of a PEM file, if the bytes are UTF-8 text (a BOM is dropped) holding a marker.
pub fn pem_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.contains("-----BEGIN ").then_some(text)
}

/// Every block of `input`, in order. The fast path answers ordinary files; anything it does
/// not handle exactly as the `pem` crate does goes to `pem`, whose error text is returned.
pub fn parse_many(input: &[u8]) -> Result<Vec<Block>, String> {
    if let Some(blocks) = fast::parse_many(input) {
        return Ok(blocks
            .into_iter()
            .map(|(tag, contents)| Block {
                tag,
                contents,
                proc_type: false,
            })
            .collect());
    }
    let blocks = ::pem::parse_many(input).map_err(|e| e.to_string())?;
    Ok(blocks
        .into_iter()
        .map(|b| Block {
            tag: b.tag().to_string(),
            proc_type: b.headers().get("Proc-Type").is_some(),
            contents: b.into_contents(),
        })
        .collect())
}

/// `::pem::parse_many` for the common case, several times faster (it dominated the time of
/// Test-CsCertificate on large folders). It finds the blocks exactly as `pem` does (the same
/// marker search, quirks included) and returns `None` for anything it does not handle the same
/// way — RFC 1421 headers, non-ASCII, base64 that is not canonical, bad or mismatched labels —
/// so that the caller falls back to `pem` itself, which then decides (and words the error).
pub(crate) mod fast {
    /// (tag, contents) of every block, or `None`: ask `pem`.
    pub fn parse_many(mut input: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        while !input.is_empty() {
            // pem's parser_inner: BEGIN label, whitespace, payload up to "-----END ", label.
            let Some((rest, _)) = read_until(input, b"-----BEGIN ") else {
                break;
            };
            let Some((rest, label)) = read_until(rest, b"-----") else {
                break;
            };
            let rest = skip_whitespace(rest);
            let Some((rest, payload)) = read_until(rest, b"-----END ") else {
                break;
            };
            let Some((rest, end)) = read_until(rest, b"-----") else {
                break;
            };
            input = skip_whitespace(rest);
            if label.is_empty() || label != end {
                return None;
            }
            let tag = std::str::from_utf8(label).ok()?;
            out.push((tag.to_string(), decode(payload)?));
        }
        Some(out)
    }

    /// pem's `read_until` (a naive matcher that, after a partial match fails, does not retry
    /// the failing byte), with the scan for the marker's first byte done a word at a time.
    /// Returns (after the marker, before the marker).
    fn read_until<'a>(input: &'a [u8], marker: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
        let mut index = 0;
        let mut found = 0;
        loop {
            if found == 0 {
                // While nothing is matched, the naive loop only steps over bytes that are not
                // the first marker byte.
                index += find_byte(&input[index..], marker[0])?;
            }
            if input.len() - index < marker.len() - found {
                return None;
            }
            if input[index] == marker[found] {
                found += 1;
            } else {
                found = 0;
            }
            index += 1;
            if found == marker.len() {
                return Some((&input[index..], &input[..index - found]));
            }
        }
    }

    fn find_byte(hay: &[u8], b: u8) -> Option<usize> {
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let pattern = LO * b as u64;
        let mut i = 0;
        while i + 8 <= hay.len() {
            let word = u64::from_le_bytes(hay[i..i + 8].try_into().unwrap()) ^ pattern;
            if (word.wrapping_sub(LO) & !word & HI) != 0 {
                break;
            }
            i += 8;
        }
        hay[i..].iter().position(|&x| x == b).map(|p| i + p)
    }

    fn skip_whitespace(input: &[u8]) -> &[u8] {
        let n = input
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        &input[n..]
    }

    /// Each byte's base64 value, 0xff for bytes that are not base64 symbols.
    const SEXTET: [u8; 256] = {
        let mut t = [0xffu8; 256];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut i = 0;
        while i < 64 {
            t[alphabet[i] as usize] = i as u8;
            i += 1;
        }
        t
    };

    fn sextet(b: u8) -> Option<u8> {
        let v = SEXTET[b as usize];
        (v < 64).then_some(v)
    }

    /// Canonical, padded standard base64 with ASCII whitespace anywhere (what pem accepts);
    /// `None` for everything else, including a blank line (pem reads headers before one).
    fn decode(payload: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(payload.len() / 4 * 3);
        let mut acc: u32 = 0;
        let mut n: usize = 0; // base64 symbols, padding included
        let mut pad = 0;
        let mut after_newline = false;
        let mut i = 0;
        while i < payload.len() {
            // Whole quads of symbols (most of every line) four bytes at a time.
            if n.is_multiple_of(4) && pad == 0 && i + 4 <= payload.len() {
                let q = [
                    SEXTET[payload[i] as usize],
                    SEXTET[payload[i + 1] as usize],
                    SEXTET[payload[i + 2] as usize],
                    SEXTET[payload[i + 3] as usize],
                ];
                if (q[0] | q[1] | q[2] | q[3]) < 64 {
                    let v = (q[0] as u32) << 18
                        | (q[1] as u32) << 12
                        | (q[2] as u32) << 6
                        | q[3] as u32;
                    out.extend_from_slice(&v.to_be_bytes()[1..4]);
                    n += 4;
                    i += 4;
                    after_newline = false;
                    continue;
                }
            }
            let b = payload[i];
            i += 1;
            match b {
                b'\n' => {
                    if after_newline {
                        return None;
                    }
                    after_newline = true;
                    continue;
                }
                b'\r' => continue,
                b' ' | b'\t' | 0x0b | 0x0c => {
                    after_newline = false;
                    continue;
                }
                _ => after_newline = false,
            }
            if b == b'=' {
                pad += 1;
                if pad > 2 {
                    return None;
                }
                acc <<= 6;
            } else {
                if pad > 0 {
                    return None;
                }
                acc = (acc << 6) | sextet(b)? as u32;
            }
            n += 1;
            if n.is_multiple_of(4) {
                let bytes = acc.to_be_bytes();
                match pad {
                    0 => out.extend_from_slice(&bytes[1..4]),
                    1 if acc & 0xff == 0 => out.extend_from_slice(&bytes[1..3]),
                    2 if acc & 0xffff == 0 => out.push(bytes[1]),
                    _ => return None,
                }
                acc = 0;
            }
        }
        n.is_multiple_of(4).then_some(out)
    }
}
