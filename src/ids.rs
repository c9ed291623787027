//! Workspace ids: the validation every id passes before it reaches a URL or a header.

/// Returns the canonical form of a workspace id — trimmed, lower-case — or
/// `None` when `id` is not a UUID (`8-4-4-4-12` hex digits).
///
/// Lenient on case and surrounding whitespace (ids are often hand-typed by
/// agents), strict on everything else: no `/`, `..`, control bytes or
/// anything that could change a URL path or break a header.
pub(crate) fn validate_peer_id(id: &str) -> Option<String> {
    id_bits(id).map(|_| id.trim().to_ascii_lowercase())
}

/// The 128 bits of a workspace id, under the same rules as
/// [`validate_peer_id`] but without allocating: the cache's key.
pub(crate) fn id_bits(id: &str) -> Option<u128> {
    let bytes = id.trim().as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut bits = 0u128;
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let digit = (b as char).to_digit(16)?;
        bits = (bits << 4) | digit as u128;
    }
    Some(bits)
}

/// Longest task id accepted, in bytes.
pub(crate) const MAX_TASK_ID: usize = 256;

/// Returns a task id as given (a peer chooses its task ids: the spec asks for
/// no format) when it is usable: not empty, at most [`MAX_TASK_ID`] bytes,
/// and free of control characters — it only ever travels inside a JSON body.
pub(crate) fn validate_task_id(id: &str) -> Option<&str> {
    let ok = !id.is_empty() && id.len() <= MAX_TASK_ID && !id.chars().any(char::is_control);
    ok.then_some(id)
}

/// Renders untrusted input for an error message: escaped (no raw control
/// bytes or newlines) and cut to `max` characters, so a hostile argument
/// cannot forge extra lines in a log.
pub(crate) fn quote_input(input: &str, max: usize) -> String {
    let mut out = String::with_capacity(input.len().min(max) + 2);
    out.push('\'');
    for (n, c) in input.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4b";

    #[test]
    fn task_ids_are_free_text_within_bounds() {
        assert_eq!(
            validate_task_id("6ea37a84-0abf-44cf-b225-a1faaf9272ad"),
            Some("6ea37a84-0abf-44cf-b225-a1faaf9272ad")
        );
        assert_eq!(validate_task_id("tasks/42 (retry)"), Some("tasks/42 (retry)"));
        assert_eq!(validate_task_id(&"t".repeat(MAX_TASK_ID)).map(str::len), Some(MAX_TASK_ID));
        for bad in ["", "a\nb", "nul\0", "\u{1b}[31m"] {
            assert_eq!(validate_task_id(bad), None, "{bad:?}");
        }
        assert_eq!(validate_task_id(&"t".repeat(MAX_TASK_ID + 1)), None);
    }

    #[test]
    fn accepts_and_canonicalises() {
        assert_eq!(validate_peer_id(ID).as_deref(), Some(ID));
        assert_eq!(validate_peer_id("  3F2A1B4C-0D5E-4F60-8A7B-9C8D7E6F5A4B\n").as_deref(), Some(ID));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "   ",
            "not-a-uuid",
            "../../etc/passwd",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4bb",
            "3f2a1b4c0d5e-4f60-8a7b-9c8d7e6f5a4b-",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4g",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f/a4b",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4\u{0}",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f\r\nX: y",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4é",
            "{3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4b}",
        ] {
            assert_eq!(validate_peer_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn id_bits_are_the_uuid() {
        assert_eq!(id_bits(ID), Some(0x3f2a1b4c_0d5e_4f60_8a7b_9c8d7e6f5a4b));
        assert_eq!(id_bits(&format!(" {} ", ID.to_uppercase())), Some(0x3f2a1b4c_0d5e_4f60_8a7b_9c8d7e6f5a4b));
        assert_eq!(id_bits("zz"), None);
        assert_eq!(id_bits("3f2a1b4c0d5e4f608a7b9c8d7e6f5a4b----"), None);
        assert_eq!(id_bits("+f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4b"), None);
    }

    #[test]
    fn id_bits_check_every_position() {
        // A bad byte anywhere, and a digit where a hyphen belongs, fail.
        for i in 0..ID.len() {
            let mut bytes = ID.as_bytes().to_vec();
            for bad in [b'g', b'G', b'-', b' ', b'/', 0, 0x80, b'0' - 1, b'9' + 1, b'a' - 1, b'f' + 1] {
                if matches!(i, 8 | 13 | 18 | 23) == (bad == b'-') {
                    continue;
                }
                bytes[i] = bad;
                let id = String::from_utf8_lossy(&bytes).into_owned();
                assert_eq!(id_bits(&id), None, "{id:?}");
            }
        }
    }

    #[test]
    fn id_bits_agree_with_the_uuid_crate() {
        let mut x: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        for _ in 0..2000 {
            x = x.wrapping_mul(0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645).wrapping_add(0x5851_f42d_4c95_7f2d);
            let id = uuid::Uuid::from_u128(x).hyphenated().to_string();
            assert_eq!(id_bits(&id), Some(x), "{id}");
            assert_eq!(id_bits(&id.to_uppercase()), Some(x), "{id}");
            assert_eq!(id_bits(&format!("\t{id}\u{3000}")), Some(x), "{id}");
        }
        // 36 bytes, but only once padding is counted: never an id.
        for bad in [
            " 3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4",
            "3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5a4\n",
            "\u{3000}3f2a1b4c-0d5e-4f60-8a7b-9c8d7e6f5",
        ] {
            assert_eq!(bad.len(), 36);
            assert_eq!(id_bits(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quoting_escapes_and_truncates() {
        assert_eq!(quote_input("a\r\nb", 80), "'a\\r\\nb'");
        assert_eq!(quote_input("abcdef", 3), "'abc…'");
        assert_eq!(quote_input("", 3), "''");
    }
}
